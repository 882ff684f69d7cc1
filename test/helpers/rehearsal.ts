import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { busyboxPath } from './busybox-root.js';
import { makeMiniRelengSnapshot } from './mini-releng.js';
import { pinnedEntry, writeTestLock } from './distfiles-lock.js';
import { projectRoot } from './env.js';

const RECORD = join(projectRoot, 'test/fixtures/gentoo-rehearsal/tools/record');
export const RECORDED_TOOLS = ['emerge', 'unsquashfs', 'make', 'python3', 'env-update'];

/**
 * A busybox root laid out like live-bootstrap's output (merged /usr, /steps/env and manifest,
 * the gcc libexec folder named by its triplet, /usr/lib/<triplet>), where bash is a wrapper for
 * busybox sh and Portage's and friends' commands are the recording stand-in.
 */
export function makeLiveBootstrapTarget(dir: string, triplet: string): void {
  if (!busyboxPath) throw new Error('no static busybox on this host: apt-get install busybox-static');
  for (const d of ['usr/bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var/tmp', 'steps', `usr/libexec/gcc/${triplet}/13.1.0`, `usr/lib/${triplet}`, `usr/${triplet}`]) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  for (const link of ['bin', 'sbin', 'lib']) symlinkSync(link === 'lib' ? 'usr/lib' : 'usr/bin', join(dir, link));
  copyFileSync(busyboxPath, join(dir, 'usr/bin/busybox'));
  // A file, as live-bootstrap's bzip2 is (the recipe moves it aside).
  copyFileSync(busyboxPath, join(dir, 'usr/bin/bzip2'));
  for (const tool of RECORDED_TOOLS) copyFileSync(RECORD, join(dir, 'usr/bin', tool));
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) if (!existsSync(join(dir, 'usr/bin', applet))) symlinkSync('busybox', join(dir, 'usr/bin', applet));
  writeFileSync(join(dir, 'usr/bin/bash'), '#!/bin/sh\nexec /bin/sh "$@"\n');
  chmodSync(join(dir, 'usr/bin/bash'), 0o755);
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
  writeFileSync(join(dir, 'etc/rehearsal-root'), 'lb\n');
  writeFileSync(join(dir, 'steps/manifest'), 'build: bash-5.2.15\nbuild: gcc-13.1.0\nimprove: finalize_fhs\n');
  writeFileSync(
    join(dir, 'steps/env'),
    ['DISTFILES=/external/distfiles', 'PREFIX=/usr', 'BINDIR=${PREFIX}/bin', `LIBDIR=\${PREFIX}/lib/${triplet}`, 'INCDIR=${PREFIX}/include', 'SRCDIR=/steps', 'TMPDIR=/tmp', 'PATH=/usr/bin', 'HOME=/tmp', 'SOURCE_DATE_EPOCH=0', 'SHELL=/usr/bin/bash', ''].join('\n'),
  );
}

/**
 * Small stand-ins for the three pinned distfiles, in a store folder, with a lock pinning them.
 * The snapshot, in the recipe's default form: a tarball with one top-level folder, as Gentoo's
 * gentoo-YYYYMMDD.tar.xz has, holding a profiles/ tree (the shared real Gentoo profiles) and a
 * base make.defaults with PYTHON_TARGETS lines. The same tree as gentoo-20250101.xz.sqfs is a tar
 * the recording unsquashfs unpacks (the real unsquashfs is the real tier's), and
 * gentoo-20250101.zip a form the recipe does not know.
 */
export async function makeRehearsalDistfiles(dir: string, profilesDir: string): Promise<{ store: string; lock: string }> {
  const store = join(dir, 'store');
  const build = join(dir, 'build');
  mkdirSync(store, { recursive: true });
  mkdirSync(join(build, 'squashfs-tools-4.6.1/squashfs-tools'), { recursive: true });
  writeFileSync(join(build, 'squashfs-tools-4.6.1/squashfs-tools/Makefile'), 'install:\n\ttrue\n');
  mkdirSync(join(build, 'portage-3.0.66.1/bin'), { recursive: true });
  copyFileSync(RECORD, join(build, 'portage-3.0.66.1/bin/emerge'));
  chmodSync(join(build, 'portage-3.0.66.1/bin/emerge'), 0o755);
  cpSync(profilesDir, join(build, 'gentoo-20250101/profiles'), { recursive: true });
  writeFileSync(join(build, 'gentoo-20250101/profiles/base/make.defaults'), 'ARCH=""\nPYTHON_TARGETS="python3_12"\nPYTHON_SINGLE_TARGET="python3_12"\nUSE_EXPAND="PYTHON_TARGETS"\n');
  // Plain tars whatever their names say: busybox's tar (which the rehearsal's shell prefers to
  // anything on PATH) does not detect compression, as live-bootstrap's GNU tar does.
  const tar = (out: string, cwd: string, what: string) => execFileSync('tar', ['-cf', join(store, out), '-C', cwd, what]);
  tar('squashfs-tools-4.6.1.tar.gz', build, 'squashfs-tools-4.6.1');
  tar('portage-3.0.66.1.tar.bz2', build, 'portage-3.0.66.1');
  tar('gentoo-20250101.tar.xz', build, 'gentoo-20250101');
  tar('gentoo-20250101.xz.sqfs', join(build, 'gentoo-20250101'), '.');
  tar('gentoo-20250101.zip', build, 'gentoo-20250101');
  const releng = basename(makeMiniRelengSnapshot(store));
  const lock = join(dir, 'distfiles.lock');
  const entry = (name: string) => pinnedEntry(readFileSync(join(store, name)), [`https://example.invalid/${name}`]);
  await writeTestLock(lock, {
    ...Object.fromEntries(['gentoo-20250101.tar.xz', 'gentoo-20250101.xz.sqfs', 'gentoo-20250101.zip'].map((name) => [name, { ...entry(name), kind: 'repo-snapshot' as const }])),
    [releng]: { ...entry(releng), kind: 'repo-snapshot' },
    'portage-3.0.66.1.tar.bz2': entry('portage-3.0.66.1.tar.bz2'),
    'squashfs-tools-4.6.1.tar.gz': entry('squashfs-tools-4.6.1.tar.gz'),
  });
  return { store, lock };
}

export interface RecordedCall {
  tool: string;
  root: string;
  cwd: string;
  env: Record<string, string>;
  args: string;
}

/** The calls recorded in a root, in order. */
export function readCalls(rootDir: string): RecordedCall[] {
  const path = join(rootDir, 'var/tmp/rehearsal/calls.tsv');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [tool, ...fields] = line.split('\t');
      const get = (key: string) => fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1) ?? '';
      const env = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]).filter(([k]) => !['root', 'cwd', 'args'].includes(k!)));
      return { tool: tool!, root: get('root'), cwd: get('cwd'), env, args: get('args') };
    });
}
