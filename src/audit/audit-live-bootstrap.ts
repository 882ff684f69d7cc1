import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { hashFile } from '../distfiles/hash.js';
import { algorithmsOf, mismatchedAlgorithms } from '../distfiles/integrity.js';
import type { Lock, LockEntry } from '../distfiles/lock-schema.js';
import { sha256Hex } from '../live-bootstrap/kept-packages.js';
import { liveBootstrapEntries, type TreeSnapshot } from '../live-bootstrap/lock-entries.js';
import { PACKAGE_NAME, parsePackageSums } from '../live-bootstrap/package-sums.js';
import { BootstrapError } from '../util/errors.js';
import { scanToChecks, type InputsAudit, type InputsOptions } from './audit-inputs.js';
import type { CheckStatus } from './report.js';

/**
 * `bootstrap audit --target DIR`: a live-bootstrap output checked against the lock. Every file
 * of `external/distfiles` is a locked source with the lock's hash, and hides no binaries; every
 * package in `external/repo` is the one `SHA256SUMS.pkgs` expects (live-bootstrap's claim that
 * its builds reproduce, checked), that file read from the lock's live-bootstrap snapshot when
 * the store has it.
 */
export async function auditLiveBootstrapTarget(target: string, lockPath: string, entries: ReadonlyMap<string, LockEntry>, options: InputsOptions & { storeDir?: string }): Promise<InputsAudit> {
  if (!(await stat(join(target, 'steps', 'manifest')).catch(() => undefined))) {
    throw new BootstrapError('EAUDITTARGET', `--target ${target} is not live-bootstrap output (no steps/manifest in it)`, {
      hint: 'Give the target/ folder rootfs.py built (by phase 0: <work>/live-bootstrap/target).',
    });
  }
  const out: InputsAudit = { checks: [], findings: [], unscanned: [] };
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    out.checks.push({ section: 'target', subject, check, status, reason, ...(details ? { details } : {}) });

  const distfiles = join(target, 'external', 'distfiles');
  for (const name of (await readdir(distfiles).catch(() => [] as string[])).sort()) {
    const path = join(distfiles, name);
    const entry = entries.get(name);
    if (!entry || entry.integrity === null) {
      add(`external/distfiles/${name}`, 'locked-source', 'fail', entry ? 'its lock entry has no hash' : `not in ${lockPath}: a source live-bootstrap used that the lock does not pin`);
      continue;
    }
    const hashed = await hashFile(path, algorithmsOf(entry.integrity));
    const bad = mismatchedAlgorithms(entry.integrity, hashed.digests);
    if (bad.length > 0) {
      add(`external/distfiles/${name}`, 'locked-source', 'fail', `${bad.join(' and ')} differs from the lock; not scanned`, [`lock  ${entry.integrity}`, `found ${hashed.integrity}`]);
      continue;
    }
    add(`external/distfiles/${name}`, 'locked-source', 'pass', `${hashed.size} bytes, ${Object.keys(hashed.digests).join(' + ')} match the lock`);
    const scanned = await scanToChecks(path, `external/distfiles/${name}`, entry, options);
    out.checks.push(...scanned.checks);
    out.findings.push(...scanned.findings);
    out.unscanned.push(...scanned.unscanned);
  }

  const sums = await packageSums(target, lockPath, entries, options.storeDir, add);
  let reproduced = 0;
  for (const folder of ['repo', 'repo-preseeded']) {
    const dir = join(target, 'external', folder);
    for (const name of (await readdir(dir).catch(() => [] as string[])).sort()) {
      const subject = `external/${folder}/${name}`;
      if (!PACKAGE_NAME.test(name)) {
        if (name.endsWith('.tar.bz2')) add(subject, 'package', 'warn', 'not a package of a build step (setup_repo archives the root as base.tar.bz2); SHA256SUMS.pkgs does not cover it');
        continue;
      }
      const expected = sums.get(name);
      const found = await sha256Hex(join(dir, name));
      if (expected === undefined) add(subject, 'package', 'fail', 'SHA256SUMS.pkgs has no line for it');
      else if (expected !== found) add(subject, 'package', 'fail', 'not reproduced: its sha256 differs from SHA256SUMS.pkgs', [`SHA256SUMS.pkgs ${expected}`, `found           ${found}`]);
      else reproduced++;
    }
  }
  add('external/repo', 'package', 'pass', `${reproduced} package${reproduced === 1 ? '' : 's'} match SHA256SUMS.pkgs byte for byte`);
  return out;
}

/**
 * SHA256SUMS.pkgs from the lock's live-bootstrap snapshot in the store (and the target's
 * manifest compared with the pinned one); without it, the target's own copy, with a warning.
 */
async function packageSums(
  target: string,
  lockPath: string,
  entries: ReadonlyMap<string, LockEntry>,
  storeDir: string | undefined,
  add: (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) => void,
): Promise<Map<string, string>> {
  const lock = { lockfileVersion: 1, distfiles: Object.fromEntries(entries) } as Lock;
  const top: TreeSnapshot | undefined = liveBootstrapEntries(lock, lockPath).snapshots.find((s) => s.path === '');
  const own = await readFile(join(target, 'steps', 'SHA256SUMS.pkgs'), 'utf8').catch(() => '');
  const snapshot = top && storeDir ? join(storeDir, top.name) : undefined;
  if (!top || !snapshot || !(await stat(snapshot).catch(() => undefined))) {
    add('steps/SHA256SUMS.pkgs', 'pinned-sums', 'warn', top
      ? `the target's own copy is used: the lock's ${top.name} is not in ${storeDir ?? 'a store (give --distdir)'} to read the pinned one from`
      : `the target's own copy is used: ${lockPath} pins no live-bootstrap tree`);
    return parsePackageSums(own, join(target, 'steps', 'SHA256SUMS.pkgs'));
  }
  const read = async (member: string) => (await execa('tar', ['--extract', '--to-stdout', '--file', snapshot, member], { encoding: 'utf8' })).stdout;
  const pinned = await read('steps/SHA256SUMS.pkgs');
  if (`${pinned}\n` === own || pinned === own) add('steps/SHA256SUMS.pkgs', 'pinned-sums', 'pass', `the same as in live-bootstrap ${top.commit} (the lock's ${top.name})`);
  else add('steps/SHA256SUMS.pkgs', 'pinned-sums', 'fail', `the target's copy differs from live-bootstrap ${top.commit}'s; packages are checked against the pinned one`);
  const manifest = await readFile(join(target, 'steps', 'manifest'), 'utf8').catch(() => '');
  const pinnedManifest = await read('steps/manifest');
  if (manifest === pinnedManifest || manifest === `${pinnedManifest}\n`) add('steps/manifest', 'pinned-manifest', 'pass', `the same as in live-bootstrap ${top.commit}`);
  else if (pinnedManifest.startsWith(manifest)) add('steps/manifest', 'pinned-manifest', 'warn', `live-bootstrap ${top.commit}'s manifest cut short (phase 0's stop_before): the target is not a whole live-bootstrap build`);
  else add('steps/manifest', 'pinned-manifest', 'fail', `differs from live-bootstrap ${top.commit}'s manifest`);
  return parsePackageSums(pinned, `steps/SHA256SUMS.pkgs of ${top.name}`);
}
