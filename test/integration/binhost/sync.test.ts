import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/env.js';

/**
 * `bootstrap binhost sync` on a target root on this machine. Its emerge runs on the host, which
 * here is Debian, not Gentoo: the test gives --emerge a stand-in that records its arguments and
 * the ROOT, PORTAGE_CONFIGROOT and PKGDIR it was given (and fails when asked to). The real
 * emerges of seed 004 (--buildpkg in one root, --getbinpkgonly in another) run in
 * test/real/binhost.test.ts.
 */

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function setup(): { dir: string; binhost: string; target: string; emerge: string; calls: string } {
  const d = tempDir('bootstrap-sync-');
  dirs.push(d);
  const binhost = join(d.path, 'binhost');
  const target = join(d.path, 'target');
  mkdirSync(join(binhost, 'etc/portage/package.use'), { recursive: true });
  mkdirSync(join(binhost, 'var/lib/portage'), { recursive: true });
  writeFileSync(join(binhost, 'etc/portage/make.conf'), 'COMMON_FLAGS="-O2 -march=x86-64-v2"\n');
  writeFileSync(join(binhost, 'etc/portage/package.use/vim'), 'app-editors/vim -X\n');
  writeFileSync(join(binhost, 'etc/portage/binrepos.conf'), '[the binhost environment has its own]\n');
  symlinkSync('../../var/db/repos/gentoo/profiles/default/linux/amd64/23.0', join(binhost, 'etc/portage/make.profile'));
  writeFileSync(join(binhost, 'var/lib/portage/world'), 'app-editors/vim\n');
  mkdirSync(join(target, 'etc/portage'), { recursive: true });
  writeFileSync(join(target, 'etc/portage/make.conf'), 'old\n');
  // The target's own profile link, pointing nowhere on this machine: replaced, not followed.
  symlinkSync('/var/db/repos/gentoo/profiles/old', join(target, 'etc/portage/make.profile'));
  writeFileSync(join(target, 'etc/portage/binrepos.conf'), '[binhost]\nsync-uri = http://127.0.0.1:8080/\n');
  const calls = join(d.path, 'calls');
  const emerge = join(d.path, 'emerge');
  writeFileSync(emerge, `#!/bin/sh\nprintf '%s|%s|%s|%s\\n' "$ROOT" "$PORTAGE_CONFIGROOT" "\${PKGDIR-}" "$*" >> ${calls}\ncase "$*" in *fail-build*) [ "$1" = --buildpkg ] && exit 3;; esac\nexit 0\n`);
  chmodSync(emerge, 0o755);
  return { dir: d.path, binhost, target, emerge, calls };
}

describe('binhost sync', () => {
  it("copies the environment's configuration and world to the target, builds with --buildpkg --root-deps there, installs with --getbinpkgonly", async () => {
    const s = setup();
    const result = await cli(['binhost', 'sync', '--binhost-root', s.binhost, '--target-root', s.target, '--emerge', s.emerge, '--', '-v', 'app-editors/vim']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readFileSync(s.calls, 'utf8').split('\n').filter(Boolean)).toEqual([
      `${s.binhost}/|${s.binhost}/|${s.binhost}/var/cache/binpkgs/|--buildpkg --root-deps -v app-editors/vim`,
      `${s.target}/|${s.target}/||--getbinpkgonly -v app-editors/vim`,
    ]);
    expect(readFileSync(join(s.target, 'etc/portage/make.conf'), 'utf8')).toBe('COMMON_FLAGS="-O2 -march=x86-64-v2"\n');
    expect(readFileSync(join(s.target, 'etc/portage/package.use/vim'), 'utf8')).toBe('app-editors/vim -X\n');
    expect(readFileSync(join(s.target, 'var/lib/portage/world'), 'utf8')).toBe('app-editors/vim\n');
    // The profile link stays a link; the target keeps its own pointer to the binhost.
    expect(readlinkSync(join(s.target, 'etc/portage/make.profile'))).toBe('../../var/db/repos/gentoo/profiles/default/linux/amd64/23.0');
    expect(readFileSync(join(s.target, 'etc/portage/binrepos.conf'), 'utf8')).toContain('sync-uri = http://127.0.0.1:8080/');
    expect(result.stderr).toMatch(/\[1\/3\] copy etc\/portage, var\/lib\/portage\/world to .* \(its binrepos\.conf stays\)\n  tar -C \S+ --exclude etc\/portage\/binrepos\.conf -cf - etc\/portage var\/lib\/portage\/world \| tar -C \S+ -xpf -\n/);
  });

  it('a failed build stops before the target is touched by emerge, and says so', async () => {
    const s = setup();
    const result = await cli(['binhost', 'sync', '--binhost-root', s.binhost, '--target-root', s.target, '--emerge', s.emerge, '--', 'fail-build']);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/error: step 2 of 3 failed \(build the packages in the binhost environment\): exit status 3/);
    expect(result.stderr).toContain('Nothing was installed on the target');
    expect(readFileSync(s.calls, 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('--dry-run over ssh prints the copy through tar (links kept), the build, and ssh -t sudo emerge, quoted', async () => {
    const s = setup();
    const result = await cli(['binhost', 'sync', '--binhost-root', s.binhost, '--ssh', 'root@target', '--dry-run', '--', '--usepkg-exclude', 'a b', 'app-editors/vim']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`tar -C ${s.binhost} --exclude etc/portage/binrepos.conf -cf - etc/portage var/lib/portage/world | ssh root@target 'sudo tar -C / -xpf -'`);
    expect(result.stderr).toContain(`ROOT=${s.binhost}/ PORTAGE_CONFIGROOT=${s.binhost}/ PKGDIR=${s.binhost}/var/cache/binpkgs/ emerge --buildpkg --root-deps --usepkg-exclude 'a b' app-editors/vim`);
    expect(result.stderr).toContain(`ssh -t root@target 'sudo emerge --getbinpkgonly --usepkg-exclude '\\''a b'\\'' app-editors/vim'`);
    expect(existsSync(s.calls)).toBe(false);
  });

  it('refuses two targets, none, or nothing to build', async () => {
    const s = setup();
    const both = await cli(['binhost', 'sync', '--binhost-root', s.binhost, '--target-root', s.target, '--ssh', 'x@y', '--', 'vim']);
    expect(both.stderr).toMatch(/name the target once/);
    const nothing = await cli(['binhost', 'sync', '--binhost-root', s.binhost, '--target-root', s.target]);
    expect(nothing.stderr).toMatch(/name what to build and install after --/);
    const notRoot = await cli(['binhost', 'sync', '--binhost-root', s.dir, '--target-root', s.target, '--', 'vim']);
    expect(notRoot.stderr).toMatch(/etc\/portage: not there/);
    expect([both.exitCode, nothing.exitCode, notRoot.exitCode]).toEqual([2, 2, 2]);
  });
});
