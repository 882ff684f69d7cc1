import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { lockDistfile } from './distfile-lock.js';
import { readLock } from './read-lock.js';
import { LOCKFILE_VERSION, type Lock, type LockEntry, lockSchema } from './lock-schema.js';

/**
 * The one way the lock is written: sorted names, a fixed key order inside entries, 2-space
 * indentation and a final newline, so that a change to one entry is a small reviewable diff.
 */
export function serializeLock(lock: Lock): string {
  const checked = lockSchema.parse(lock);
  const distfiles: Record<string, unknown> = {};
  for (const name of Object.keys(checked.distfiles).sort()) distfiles[name] = orderEntry(checked.distfiles[name]!);
  return `${JSON.stringify({ lockfileVersion: LOCKFILE_VERSION, distfiles }, null, 2)}\n`;
}

function orderEntry(entry: LockEntry): Record<string, unknown> {
  const ordered: Record<string, unknown> = {
    size: entry.size,
    integrity: entry.integrity,
    urls: entry.urls,
    kind: entry.kind,
  };
  if (entry.from !== undefined) ordered.from = entry.from;
  if (entry.group !== undefined) ordered.group = entry.group;
  if (entry.git !== undefined) ordered.git = { commit: entry.git.commit, path: entry.git.path };
  if (entry.signature !== undefined) {
    ordered.signature = { urls: entry.signature.urls, key: entry.signature.key, fingerprint: entry.signature.fingerprint };
  }
  if (entry.allowBinaries !== undefined) ordered.allowBinaries = entry.allowBinaries.map((a) => ({ pattern: a.pattern, reason: a.reason }));
  return ordered;
}

/** Writes to a temporary name beside the lock, fsyncs and renames: never half-written. */
export async function writeLock(path: string, lock: Lock): Promise<void> {
  await writeFileAtomic(path, serializeLock(lock), { fsync: true });
}

const updates = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write of the lock, one at a time per path: in order within this process, and
 * under the same kind of kernel-held lock as a distfile (distfile-lock.ts) across processes,
 * so parallel pins and recordings, here or in another `fetch --pin`, each re-read the file
 * and none loses another's entry. The key is the lock's directory (the file itself is
 * replaced by each write) and its name.
 */
export function updateLock<T>(path: string, change: (lock: Lock) => T | Promise<T>): Promise<T> {
  const previous = updates.get(path) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      const dir = await stat(dirname(path), { bigint: true });
      const held = await lockDistfile(`lock file in ${dir.dev}:${dir.ino}`, basename(path));
      try {
        const lock = await readLock(path);
        const result = await change(lock);
        await writeLock(path, lock);
        return result;
      } finally {
        await held.release();
      }
    });
  updates.set(path, next);
  void next.finally(() => {
    if (updates.get(path) === next) updates.delete(path);
  }).catch(() => undefined);
  return next;
}
