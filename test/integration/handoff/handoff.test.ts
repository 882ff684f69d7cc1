import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handoff, type HandoffOptions } from '../../../src/handoff/handoff.js';
import { parseCatalystSpec } from '../../helpers/catalyst-spec.js';
import { tempDir } from '../../helpers/env.js';
import { makeSeed } from '../../helpers/handoff-seed.js';
import { makeMiniReleng } from '../../helpers/mini-releng.js';

const TREEISH = 'd55448fdd9e8e82386e9b121e4b637b03e59a0f8';

/** Every file under dir, relative, sorted; for "nothing was written" checks. */
function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name), `${prefix}${e.name}/`);
      else out.push(`${prefix}${e.name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

describe('handoff()', () => {
  let tmp: ReturnType<typeof tempDir>;
  let seed: string;
  let storedir: string;
  let base: HandoffOptions;

  beforeEach(() => {
    tmp = tempDir('handoff-');
    mkdirSync(join(tmp.path, 'out'));
    seed = makeSeed(join(tmp.path, 'out'));
    storedir = join(tmp.path, 'catalyst');
    base = { seed, storedir, treeish: TREEISH, timestamp: '2025-06-12', jobs: 12, loadAverage: 14, releng: makeMiniReleng(join(tmp.path, 'releng')) };
  });
  afterEach(() => tmp.remove());

  it('places the seed, its DIGESTS and CONTENTS where source_subpath finds them, hard-linked', async () => {
    const result = await handoff(base);
    const builds = join(storedir, 'builds/default');
    expect(readdirSync(builds).sort()).toEqual([
      'stage3-bootstrap.tar.xz',
      'stage3-bootstrap.tar.xz.CONTENTS.gz',
      'stage3-bootstrap.tar.xz.DIGESTS',
    ]);
    expect(result.seedPath).toBe(join(builds, 'stage3-bootstrap.tar.xz'));
    expect(result.sourceSubpath).toBe('default/stage3-bootstrap');
    expect(statSync(result.seedPath).ino).toBe(statSync(seed).ino);
    // sha512sum -c accepts the placed copy's DIGESTS (SHA512 lines only).
    const sha = readFileSync(join(builds, 'stage3-bootstrap.tar.xz.DIGESTS'), 'utf8')
      .split('\n')
      .filter((_l, i, all) => all[i - 1] === '# SHA512 HASH')
      .join('\n');
    execFileSync('sha512sum', ['-c', '--status', '-'], { cwd: builds, input: `${sha}\n` });
    for (const f of result.files) expect(existsSync(f)).toBe(true);
    expect(result.files).toContain(join(storedir, 'specs/catalyst.conf'));
  });

  it('writes a catalyst.conf that parses as TOML, with Catalyst 4 keys and no bindist or binhost', async () => {
    const result = await handoff({ ...base, reposStoredir: '/var/tmp/catalyst/repos' });
    const text = readFileSync(result.confPath, 'utf8');
    const conf = parseToml(text) as Record<string, unknown>;
    expect(conf).toMatchObject({
      storedir,
      distdir: '/var/cache/distfiles',
      repo_basedir: '/var/db/repos',
      repos_storedir: '/var/tmp/catalyst/repos',
      jobs: 12,
      'load-average': 14,
      digests: ['blake2b', 'sha512'],
    });
    expect(conf.options).toEqual(['autoresume', 'kerncache', 'pkgcache', 'seedcache']);
    expect(conf.options).not.toContain('bindist');
    expect(Object.keys(conf)).not.toContain('binhost');
    const known = ['binhost', 'compression_mode', 'digests', 'digest_format', 'distdir', 'envscript', 'jobs', 'load-average', 'options', 'port_logdir', 'repo_basedir', 'repo_name', 'repos_storedir', 'sharedir', 'storedir', 'target_distdir', 'target_pkgdir', 'var_tmpfs_portage'];
    for (const key of Object.keys(conf)) expect(known).toContain(key);
  });

  it('writes releng\'s four specs (the guide\'s systemd ones) with the guide\'s source_subpath and the placeholders filled', async () => {
    const result = await handoff(base);
    expect(result.specs.map((s) => s.stage)).toEqual(['stage1', 'stage3', 'installcd-stage1', 'installcd-stage2-minimal']);
    expect(result.specs.map((s) => s.path.split('/').pop())).toEqual(['stage1-systemd-23.spec', 'stage3d-systemd-23.spec', 'installcd-stage1.spec', 'installcd-stage2-minimal.spec']);
    const specs = Object.fromEntries(result.specs.map((s) => [s.stage, parseCatalystSpec(readFileSync(s.path, 'utf8'))]));
    for (const spec of Object.values(specs)) {
      expect(spec.rel_type).toBe('23.0-default');
      expect(spec.snapshot_treeish).toBe(TREEISH);
      for (const value of Object.values(spec).flat()) expect(value).not.toMatch(/@[A-Z_]+@/);
    }
    const repo = join(storedir, 'specs/releng');
    expect(specs.stage1).toMatchObject({ version_stamp: 'systemd-2025-06-12', source_subpath: 'default/stage3-bootstrap', portage_confdir: `${repo}/releases/portage/stages` });
    expect(specs.stage3).toMatchObject({ version_stamp: 'desktop-systemd-2025-06-12', source_subpath: '23.0-default/stage1-amd64-systemd-2025-06-12' });
    expect(specs['installcd-stage1']).toMatchObject({ source_subpath: 'default/stage3-bootstrap', portage_confdir: `${repo}/releases/portage/isos` });
    const cd2 = specs['installcd-stage2-minimal']!;
    expect(cd2).toMatchObject({
      'livecd/iso': 'install-amd64-minimal-2025-06-12.iso',
      'livecd/volid': 'Gentoo-amd64-20250612',
      'boot/kernel/gentoo/config': `${repo}/releases/kconfig/amd64/dist-amd64-livecd.config`,
    });
    expect(cd2['livecd/unmerge']).toEqual(['dev-lang/rust', 'sys-devel/gcc']);
    // Only what the specs name is copied: the two portage_confdir trees and the one kernel config.
    expect(existsSync(`${repo}/releases/kconfig/amd64/dist-amd64-livecd.config`)).toBe(true);
    expect(existsSync(`${repo}/releases/kconfig/amd64/other.config`)).toBe(false);
    expect(result.edits.map((e) => e.file)).toContain('releases/portage/stages/profile/packages.build');
  });

  it('uses releng\'s openrc stage specs with init openrc', async () => {
    const result = await handoff({ ...base, init: 'openrc' });
    expect(result.specs.map((s) => s.path.split('/').pop())).toEqual(['stage1-openrc-23.spec', 'stage3d-openrc-23.spec', 'installcd-stage1.spec', 'installcd-stage2-minimal.spec']);
    expect(parseCatalystSpec(readFileSync(result.specs[0]!.path, 'utf8'))).toMatchObject({ source_subpath: 'default/stage3-bootstrap', version_stamp: 'openrc-2025-06-12' });
  });

  it('writes the guide\'s edits into releng\'s portage_confdir trees, leaving the given releng alone', async () => {
    const before = readFileSync(join(base.releng!, 'releases/portage/stages/package.use/releng/circular'), 'utf8');
    await handoff(base);
    const portage = join(storedir, 'specs/releng/releases/portage');
    const read = (p: string) => readFileSync(join(portage, p), 'utf8');
    expect(read('stages/package.mask/releng/rust')).toBe('# force using rust-bin\ndev-lang/rust-bin\n');
    expect(read('stages/profile/packages.build')).toBe('dev-lang/rust\n');
    expect(read('stages/package.use/releng/circular')).toBe('dev-db/sqlite -icu\n\nnet-misc/curl http2 ssl openssl curl_ssl_openssl\ndev-python/pillow -truetype\n');
    expect(read('stages/profile/package.use.force/releng/alternatives')).toBe('app-alternatives/sh bash\n');
    expect(read('isos/package.mask/releng/rust')).toBe('dev-lang/rust-bin\n');
    expect(read('isos/package.accept_keywords/admincd-packages')).toBe('sys-fs/dislocker\nnet-libs/mbedtls\n');
    expect(readFileSync(join(base.releng!, 'releases/portage/stages/package.use/releng/circular'), 'utf8')).toBe(before);
  });

  it('reads releng from a snapshot tarball with one top folder, as the pinned snapshot is', async () => {
    const tarball = join(tmp.path, 'releng-snap.tar.gz');
    execFileSync('tar', ['-czf', tarball, '-C', tmp.path, '--transform', 's,^releng,releng-abc,', 'releng']);
    const result = await handoff({ ...base, releng: tarball });
    expect(readFileSync(result.specs[0]!.path, 'utf8')).toContain('source_subpath: default/stage3-bootstrap');
  });

  it('fails naming the file and the expected line when an edit no longer applies', async () => {
    writeFileSync(join(base.releng!, 'releases/portage/stages/package.use/releng/circular'), 'net-misc/curl -http2\n');
    const error = await handoff(base).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'EHANDOFF_EDIT_STALE', expected: expect.stringContaining('net-misc/curl -http2 -http3 -quic -curl_quic_openssl') });
    expect((error as Error).message).toContain('releases/portage/stages/package.use/releng/circular');
    expect(existsSync(join(storedir, 'specs'))).toBe(false);
  });

  it('refuses to hand off without releng, saying where the pinned one comes from', async () => {
    await expect(handoff({ ...base, releng: undefined })).rejects.toMatchObject({ code: 'EHANDOFF_NO_RELENG', hint: expect.stringContaining('releng-87eea8b66cef13d62fc8bcf2e27a573e86423b75.tar.bz2') });
  });

  it('is idempotent: a second hand-off of the same seed writes the same files', async () => {
    const first = await handoff(base);
    const texts = first.files.filter((f) => !f.includes('.tar.xz')).map((f) => readFileSync(f, 'utf8'));
    const second = await handoff(base);
    expect(second.files).toEqual(first.files);
    expect(second.files.filter((f) => !f.includes('.tar.xz')).map((f) => readFileSync(f, 'utf8'))).toEqual(texts);
  });

  it('writes below targetRoot with paths as that system sees them, resolving links inside it', async () => {
    const root = join(tmp.path, 'vmroot');
    mkdirSync(join(root, 'srv/catalyst'), { recursive: true });
    mkdirSync(join(root, 'var'), { recursive: true });
    // An absolute link inside the root must resolve inside it, never to the host's /srv.
    symlinkSync('/srv', join(root, 'var/tmp'));
    const result = await handoff({ ...base, storedir: '/var/tmp/catalyst', targetRoot: root });
    expect(result.seedPath).toBe(join(root, 'srv/catalyst/builds/default/stage3-bootstrap.tar.xz'));
    expect(result.specsDir).toBe('/var/tmp/catalyst/specs');
    expect(result.hostSpecsDir).toBe(join(root, 'srv/catalyst/specs'));
    for (const f of result.files) expect(f.startsWith(`${root}/`)).toBe(true);
    const conf = parseToml(readFileSync(result.confPath, 'utf8')) as Record<string, unknown>;
    expect(conf.storedir).toBe('/var/tmp/catalyst');
    const stage1 = parseCatalystSpec(readFileSync(result.specs[0]!.path, 'utf8'));
    expect(stage1.portage_confdir).toBe('/var/tmp/catalyst/specs/releng/releases/portage/stages');
    expect(stage1.source_subpath).toBe('default/stage3-bootstrap');
    expect(existsSync(join(root, 'srv/catalyst/specs/releng/releases/portage/stages/package.mask/releng/rust'))).toBe(true);
  });

  it('takes the tree-ish from the one snapshot in the storedir, and refuses when there is none', async () => {
    await expect(handoff({ ...base, treeish: undefined })).rejects.toMatchObject({ code: 'EHANDOFF_NO_TREEISH' });
    mkdirSync(join(storedir, 'snapshots'), { recursive: true });
    writeFileSync(join(storedir, 'snapshots', `gentoo-${TREEISH}.sqfs`), '');
    const result = await handoff({ ...base, treeish: undefined });
    expect(result.treeish).toBe(TREEISH);
    expect(result.notes).toEqual([]);
  });

  it('keeps @TREEISH@ when asked to defer, with a command that fills it in once the snapshot exists', async () => {
    const result = await handoff({ ...base, treeish: undefined, deferTreeish: true });
    expect(result.treeish).toBe('@TREEISH@');
    for (const s of result.specs) expect(parseCatalystSpec(readFileSync(s.path, 'utf8')).snapshot_treeish).toBe('@TREEISH@');
    const command = result.notes.join('\n').split('then ')[1]!;
    mkdirSync(join(storedir, 'snapshots'), { recursive: true });
    writeFileSync(join(storedir, 'snapshots', `gentoo-${TREEISH}.sqfs`), '');
    execFileSync('sh', ['-c', command]);
    for (const s of result.specs) expect(parseCatalystSpec(readFileSync(s.path, 'utf8')).snapshot_treeish).toBe(TREEISH);
  });

  describe('refuses bad input and writes nothing', () => {
    async function refused(opts: Partial<HandoffOptions>, code: string, message?: RegExp): Promise<void> {
      const before = listTree(tmp.path);
      const error = await handoff({ ...base, ...opts }).then(() => undefined, (e: unknown) => e);
      expect(error).toMatchObject({ code });
      if (message) expect((error as Error).message).toMatch(message);
      expect(listTree(tmp.path)).toEqual(before);
    }

    it('an ambiguous builds folder (an .asc, or another compression of the same name)', async () => {
      mkdirSync(join(storedir, 'builds/default'), { recursive: true });
      writeFileSync(join(storedir, 'builds/default/stage3-bootstrap.tar.xz.DIGESTS.asc'), 'sig');
      await refused({}, 'EHANDOFF_AMBIGUOUS_SEED', /Ambiguous Filename/);
      execFileSync('rm', [join(storedir, 'builds/default/stage3-bootstrap.tar.xz.DIGESTS.asc')]);
      writeFileSync(join(storedir, 'builds/default/stage3-bootstrap.tar.bz2'), 'old');
      await refused({}, 'EHANDOFF_AMBIGUOUS_SEED', /stage3-bootstrap\.tar\.bz2/);
    });

    it('a different seed already under the same name', async () => {
      mkdirSync(join(storedir, 'builds/default'), { recursive: true });
      writeFileSync(join(storedir, 'builds/default/stage3-bootstrap.tar.xz'), 'another seed');
      await refused({}, 'EHANDOFF_SEED_EXISTS');
    });

    it('a specs folder holding files the hand-off did not write (e.g. /etc/catalyst)', async () => {
      const mine = join(tmp.path, 'etc-catalyst');
      mkdirSync(mine);
      writeFileSync(join(mine, 'catalyst.conf'), 'mine\n');
      await refused({ specsDir: mine }, 'EHANDOFF_NOT_OURS');
      expect(readFileSync(join(mine, 'catalyst.conf'), 'utf8')).toBe('mine\n');
    });

    it('a path holding "%", which Catalyst\'s spec parser cannot read, naming the key', async () => {
      await refused({ specsDir: join(tmp.path, 'specs-100%') }, 'EHANDOFF_SPEC_PERCENT', /portage_confdir/);
    });

    it('a timestamp or tree-ish with unsafe characters', async () => {
      await refused({ timestamp: '2025/06/12' }, 'EHANDOFF_UNSAFE_VALUE', /timestamp/);
      await refused({ timestamp: 'x y' }, 'EHANDOFF_UNSAFE_VALUE');
      await refused({ treeish: 'abc;rm' }, 'EHANDOFF_UNSAFE_VALUE', /treeish/);
    });

    it('a seed that is not a tar archive', async () => {
      const fake = join(tmp.path, 'out/fake.tar.xz');
      writeFileSync(fake, 'definitely not xz');
      writeFileSync(`${fake}.DIGESTS`, '');
      await refused({ seed: fake }, 'EHANDOFF_SEED_NOT_TAR');
      const xzText = join(tmp.path, 'out/text.tar.xz');
      execFileSync('sh', ['-c', `echo hello | xz > '${xzText}'`]);
      await refused({ seed: xzText }, 'EHANDOFF_SEED_NOT_TAR', /not a tar archive inside/);
      const noSuffix = join(tmp.path, 'out/seed.img');
      writeFileSync(noSuffix, 'x');
      await refused({ seed: noSuffix }, 'EHANDOFF_SEED_NOT_TAR');
    });

    it('gzip bytes under a .tar.xz name', async () => {
      const gz = makeSeed(join(tmp.path, 'out'), 'other.tar.gz');
      const renamed = join(tmp.path, 'out/other.tar.xz');
      execFileSync('mv', [gz, renamed]);
      await refused({ seed: renamed }, 'EHANDOFF_SEED_NOT_TAR', /gzip-compressed/);
    });

    it('a missing DIGESTS file', async () => {
      execFileSync('rm', [`${seed}.DIGESTS`]);
      await refused({}, 'EHANDOFF_DIGESTS_MISSING');
    });

    it('a seed that does not match its DIGESTS', async () => {
      const text = readFileSync(`${seed}.DIGESTS`, 'utf8');
      const lines = text.split('\n');
      const i = lines.indexOf('# SHA512 HASH') + 1;
      lines[i] = `${'0'.repeat(128)}  stage3-bootstrap.tar.xz`;
      writeFileSync(`${seed}.DIGESTS`, lines.join('\n'));
      await refused({}, 'EHANDOFF_DIGEST_MISMATCH');
    });

    it('a DIGESTS file that does not list the seed', async () => {
      writeFileSync(`${seed}.DIGESTS`, `# SHA512 HASH\n${'a'.repeat(128)}  something-else.tar.xz\n`);
      await refused({}, 'EHANDOFF_DIGESTS_MISSING');
    });
  });
});

describe('makeMiniRelengSnapshot()', () => {
  it('makes a snapshot tarball the hand-off reads like the pinned one', async () => {
    const { makeMiniRelengSnapshot } = await import('../../helpers/mini-releng.js');
    const tmp = tempDir('mini-releng-');
    try {
      const tarball = makeMiniRelengSnapshot(tmp.path);
      expect(tarball.endsWith('/releng-87eea8b66cef13d62fc8bcf2e27a573e86423b75.tar.bz2')).toBe(true);
      mkdirSync(join(tmp.path, 'out'));
      const result = await handoff({ seed: makeSeed(join(tmp.path, 'out')), storedir: join(tmp.path, 'catalyst'), treeish: 'abc', timestamp: '2025-06-12', jobs: 1, releng: tarball });
      expect(result.edits).toHaveLength(9);
    } finally {
      tmp.remove();
    }
  });
});
