import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { hashFile } from './hash.js';
import { algorithmsOf, mismatchedAlgorithms } from './integrity.js';
import { hasDigests, isPinned } from './lock-schema.js';
import { readLock } from './read-lock.js';

export interface VerifyReport {
  entries: number;
  pinned: string[];
  unpinned: string[];
  /** Only with a directory: what each present file turned out to be. */
  files?: Array<{ name: string; status: 'ok' | 'mismatch' | 'missing' | 'unpinned' | 'not-hashed'; detail?: string }>;
}

/**
 * `lock verify`: reading the lock checks its schema and every SRI string; with a directory,
 * every present file is hashed in full (no cached verification: this is the auditor's check)
 * and compared with its entry.
 */
export async function verifyLock(lockPath: string, dir?: string): Promise<VerifyReport> {
  const lock = await readLock(lockPath);
  const names = Object.keys(lock.distfiles).sort();
  const report: VerifyReport = {
    entries: names.length,
    pinned: names.filter((n) => isPinned(lock.distfiles[n]!)),
    unpinned: names.filter((n) => !isPinned(lock.distfiles[n]!)),
  };
  if (dir === undefined) return report;
  report.files = [];
  for (const name of names) {
    const entry = lock.distfiles[name]!;
    const path = join(dir, name);
    const info = await stat(path).catch((error: unknown) => (errnoCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
    if (!info?.isFile()) {
      report.files.push({ name, status: 'missing' });
      continue;
    }
    if (entry.git !== undefined) {
      report.files.push({ name, status: 'not-hashed', detail: `pinned by git commit ${entry.git.commit}, which fetch checks; an archive has no digest in the lock` });
      continue;
    }
    if (!hasDigests(entry)) {
      const why = entry.signature ? 'its signature is checked when fetch records its digests' : 'the lock has no digest to check it against';
      report.files.push({ name, status: 'unpinned', detail: `present, but ${why}` });
      continue;
    }
    const found = await hashFile(path, algorithmsOf(entry.integrity));
    if (entry.size !== null && found.size !== entry.size) {
      report.files.push({ name, status: 'mismatch', detail: `size ${found.size}, expected ${entry.size}` });
      continue;
    }
    const wrong = mismatchedAlgorithms(entry.integrity, found.digests);
    report.files.push(wrong.length > 0 ? { name, status: 'mismatch', detail: `expected ${entry.integrity}, found ${found.integrity}` } : { name, status: 'ok' });
  }
  return report;
}
