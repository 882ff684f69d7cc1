import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * A small releng-shaped folder for the hand-off's own tests: the lines the guide's edits
 * expect and specs with releng's keys and placeholders, nothing more (the real releng is only
 * read by test/real/catalyst-handoff.test.ts, from the real inputs folder).
 */
export function makeMiniReleng(dir: string): string {
  const stage1 = (init: string) =>
    [
      'subarch: amd64',
      'target: stage1',
      `version_stamp: ${init}-@TIMESTAMP@`,
      'rel_type: 23.0-default',
      `profile: default/linux/amd64/23.0${init === 'systemd' ? '/systemd' : ''}`,
      'snapshot_treeish: @TREEISH@',
      `source_subpath: 23.0-default/stage3-amd64-${init}-latest`,
      'portage_confdir: @REPO_DIR@/releases/portage/stages',
      '',
    ].join('\n');
  const stage3 = (init: string) =>
    [
      'subarch: amd64',
      'target: stage3',
      `version_stamp: desktop-${init}-@TIMESTAMP@`,
      'rel_type: 23.0-default',
      'profile: default/linux/amd64/23.0/desktop',
      'snapshot_treeish: @TREEISH@',
      `source_subpath: 23.0-default/stage1-amd64-${init}-@TIMESTAMP@`,
      'portage_confdir: @REPO_DIR@/releases/portage/stages',
      '',
    ].join('\n');
  const files: Record<string, string> = {
    'releases/specs/amd64/stage1-systemd-23.spec': stage1('systemd'),
    'releases/specs/amd64/stage1-openrc-23.spec': stage1('openrc'),
    'releases/specs/amd64/stage3d-systemd-23.spec': stage3('systemd'),
    'releases/specs/amd64/stage3d-openrc-23.spec': stage3('openrc'),
    'releases/specs/amd64/installcd-stage1.spec': [
      'subarch: amd64',
      'version_stamp: @TIMESTAMP@',
      'target: livecd-stage1',
      'rel_type: 23.0-default',
      'profile: default/linux/amd64/23.0/no-multilib',
      'snapshot_treeish: @TREEISH@',
      'source_subpath: 23.0-default/stage3-amd64-openrc-@TIMESTAMP@',
      'portage_confdir: @REPO_DIR@/releases/portage/isos',
      '',
      'livecd/packages:',
      '\tapp-misc/livecd-tools',
      '',
    ].join('\n'),
    'releases/specs/amd64/installcd-stage2-minimal.spec': [
      'subarch: amd64',
      'version_stamp: @TIMESTAMP@',
      'target: livecd-stage2',
      'rel_type: 23.0-default',
      'profile: default/linux/amd64/23.0/no-multilib',
      'snapshot_treeish: @TREEISH@',
      'source_subpath: 23.0-default/livecd-stage1-amd64-@TIMESTAMP@',
      'portage_confdir: @REPO_DIR@/releases/portage/isos',
      'livecd/iso: install-amd64-minimal-@TIMESTAMP@.iso',
      'livecd/volid: Gentoo-amd64-@DATESTAMP@',
      'boot/kernel/gentoo/config: @REPO_DIR@/releases/kconfig/amd64/dist-amd64-livecd.config',
      '',
      'livecd/unmerge:',
      '\tdev-lang/rust-bin',
      '\tsys-devel/gcc',
      '',
    ].join('\n'),
    'releases/portage/stages/package.mask/releng/rust': '# force using rust-bin\ndev-lang/rust\n',
    'releases/portage/stages/package.use/releng/circular': 'dev-db/sqlite -icu\n\nnet-misc/curl -http2 -http3 -quic -curl_quic_openssl\n',
    'releases/portage/stages/profile/package.use.force/releng/alternatives': 'app-alternatives/sh bash\n',
    'releases/portage/isos/package.mask/releng/rust': 'dev-lang/rust\n',
    'releases/portage/isos/package.accept_keywords/admincd-packages': 'sys-fs/dislocker\n',
    'releases/kconfig/amd64/dist-amd64-livecd.config': 'CONFIG_SQUASHFS=y\n',
    'releases/kconfig/amd64/other.config': 'CONFIG_OTHER=y\n',
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/**
 * The mini releng as a stand-in for the pinned snapshot: `<dir>/releng-<commit>.tar.bz2` with
 * one top folder `releng-<commit>/`, like the gitweb snapshot the recipe's lock pins. For
 * rehearsals of the recipe, whose lock then pins this file under the real name.
 */
export function makeMiniRelengSnapshot(dir: string): string {
  const commit = '87eea8b66cef13d62fc8bcf2e27a573e86423b75';
  const top = `releng-${commit}`;
  makeMiniReleng(join(dir, top));
  const out = join(dir, `${top}.tar.bz2`);
  execFileSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '-cjf', out, '-C', dir, top]);
  return out;
}
