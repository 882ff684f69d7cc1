import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from './cli.js';
import { hasTool, isRoot, projectRoot } from './env.js';

/**
 * What a real-tier test needs before it can emerge anything: the real inputs checked against
 * test/real/inputs.lock (Debian's fetched with apt when missing), the stand-in root built or
 * taken from its cache and copied for the test, and, for tests that start past the setup, a
 * copy where gentoo-2025 ran for real from check-target through python-targets (Portage, the
 * repository, the profile, the sealed fetch command). test/real/README.md says where the
 * inputs come from.
 */

export const REAL = process.env.BOOTSTRAP_REAL_INPUTS ?? '/var/cache/bootstrap/real-inputs';
const STANDIN_CACHE = process.env.BOOTSTRAP_STANDIN_CACHE ?? '/var/cache/bootstrap/standin';
export const DISTFILES = join(REAL, 'distfiles');
export const SNAPSHOT = 'gentoo-test-20250101.xz.sqfs';
/** Placed by the recipe's distfiles step (the run's lock pins them). */
export const PLACED = ['portage-3.0.66.1.tar.bz2', SNAPSHOT, 'squashfs-tools-4.6.1.tar.gz', 'bzip2-1.0.8.tar.gz', 'findutils-4.10.0.tar.xz'];
/** Pinned for the recipe's hand-off step, which a plan checks though these runs stop before it. */
const RELENG = 'releng-87eea8b66cef13d62fc8bcf2e27a573e86423b75.tar.bz2';
const DEBIAN = ['squashfs-tools-4.6.1.tar.gz', 'bzip2-1.0.8.tar.gz', 'findutils-4.10.0.tar.xz'];
const FROM_FETCH_TOOL: Record<string, string> = {
  'portage-3.0.66.1.tar.bz2': 'git archive of gentoo/portage at tag portage-3.0.66.1, bzip2 -9 (test/real/README.md)',
  [SNAPSHOT]: 'mksquashfs of the test Gentoo tree (test/real/README.md, "The test Gentoo tree")',
  [RELENG]: 'git archive of gentoo/releng at 87eea8b6, bzip2 -9 (test/real/README.md)',
};

interface LockEntry {
  size: number;
  integrity: string;
  from?: string;
}
export const testLock = JSON.parse(readFileSync(join(projectRoot, 'test/real/inputs.lock'), 'utf8')) as { lockfileVersion: number; distfiles: Record<string, LockEntry> };

/**
 * Why the real tier cannot run here, or undefined when it can. `alsoDebian`: inputs the test
 * uses beyond the run's lock, fetched from the Debian archive like the rest.
 */
export function realTierSkipReason(alsoDebian: readonly string[] = []): string | undefined {
  if (!isRoot) return 'needs root for chroot, mounts and namespaces (CI runs as root)';
  const missingDebian = [...DEBIAN, ...alsoDebian].filter((name) => !existsSync(join(DISTFILES, name)));
  if (missingDebian.length > 0) {
    try {
      mkdirSync(DISTFILES, { recursive: true });
      execFileSync('bash', [join(projectRoot, 'test/real/debian-sources.sh'), DISTFILES, ...missingDebian], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      return `could not fetch ${missingDebian.join(', ')} from the Debian archive with test/real/debian-sources.sh: ${String((error as { stderr?: Buffer }).stderr ?? error).trim().split('\n').at(-1)}`;
    }
  }
  for (const name of [...PLACED, RELENG, ...alsoDebian]) {
    const path = join(DISTFILES, name);
    if (!existsSync(path)) return `missing ${path}: ${FROM_FETCH_TOOL[name] ?? 'test/real/debian-sources.sh fetches it'} (BOOTSTRAP_REAL_INPUTS names the folder)`;
    const sri = `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
    if (!testLock.distfiles[name]!.integrity.split(' ').includes(sri)) return `${path} does not match test/real/inputs.lock: get it again as test/real/README.md says`;
  }
  if (!hasTool('debootstrap')) return 'needs debootstrap for the stand-in root (Debian package debootstrap; .ci/run installs it)';
  return undefined;
}

/**
 * A fresh copy of the stand-in root at `<dir>/target` (built once per machine with debootstrap,
 * about a minute, then taken from its cache), with the run's lock at `<dir>/distfiles.lock`.
 */
export function standinTarget(dir: string): { target: string; lock: string } {
  const built = spawnSync('bash', [join(projectRoot, 'test/real/standin-root.sh'), STANDIN_CACHE], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`test/real/standin-root.sh failed:\n${built.stderr.slice(-4000)}`);
  const standin = built.stdout.trim().split('\n').at(-1)!;
  const target = join(dir, 'target');
  execFileSync('cp', ['-a', '--reflink=auto', standin, target]);
  const lock = join(dir, 'distfiles.lock');
  writeFileSync(lock, `${JSON.stringify({ lockfileVersion: 1, distfiles: Object.fromEntries([...PLACED, RELENG].map((n) => [n, testLock.distfiles[n]])) }, null, 2)}\n`);
  // The test tree's known gap (test/real/README.md): two perl virtuals for perl 5.40 are in no
  // reachable source. This configuration is the test's, not the recipe's.
  mkdirSync(join(target, 'gentoo.cfg/etc/portage/profile'), { recursive: true });
  writeFileSync(join(target, 'gentoo.cfg/etc/portage/profile/package.provided'), 'virtual/perl-CPAN-2.360.0\nvirtual/perl-Test-Harness-3.480.0\n');
  return { target, lock };
}

/**
 * A stand-in copy (standinTarget) where gentoo-2025 ran through python-targets. Throws with the
 * tail of the output when the run fails.
 */
export async function preparedTarget(dir: string): Promise<{ target: string; lock: string }> {
  const { target, lock } = standinTarget(dir);
  const run = await cli(['run', '--lock', lock, '--mirror', DISTFILES, '--target', target, '--set', `snapshot=${SNAPSHOT}`, '--plain', '--work', join(dir, 'setup-work'), '--until', 'python-targets']);
  if (run.exitCode !== 0) throw new Error(`gentoo-2025 through python-targets failed:\n${run.stderr.slice(-3000)}`);
  return { target, lock };
}
