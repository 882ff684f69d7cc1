import writeFileAtomic from 'write-file-atomic';
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
  if (entry.allowBinaries !== undefined) ordered.allowBinaries = entry.allowBinaries.map((a) => ({ pattern: a.pattern, reason: a.reason }));
  return ordered;
}

/** Writes to a temporary name beside the lock, fsyncs and renames: never half-written. */
export async function writeLock(path: string, lock: Lock): Promise<void> {
  await writeFileAtomic(path, serializeLock(lock), { fsync: true });
}

const updates = new Map<string, Promise<unknown>>();

/**
 * Read-modify-write of the lock, one at a time per path within this process (parallel pins
 * and recordings each re-read the file, so none loses another's entry).
 */
export function updateLock<T>(path: string, change: (lock: Lock) => T | Promise<T>): Promise<T> {
  const previous = updates.get(path) ?? Promise.resolve();
  const next = previous
    .catch(() => undefined)
    .then(async () => {
      const lock = await readLock(path);
      const result = await change(lock);
      await writeLock(path, lock);
      return result;
    });
  updates.set(path, next);
  void next.finally(() => {
    if (updates.get(path) === next) updates.delete(path);
  }).catch(() => undefined);
  return next;
}
