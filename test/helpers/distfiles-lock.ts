import { createHash } from 'node:crypto';
import { writeLock } from '../../src/distfiles/write-lock.js';
import type { Lock, LockEntry } from '../../src/distfiles/lock-schema.js';

/** The lock's SRI string for some bytes: sha512 and blake2b512, as `--pin` records. */
export function sriOf(data: Buffer): string {
  return `sha512-${createHash('sha512').update(data).digest('base64')} blake2b512-${createHash('blake2b512').update(data).digest('base64')}`;
}

export function pinnedEntry(data: Buffer, urls: string[]): LockEntry {
  return { size: data.length, integrity: sriOf(data), urls, kind: 'source', from: 'test' };
}

export async function writeTestLock(path: string, distfiles: Record<string, LockEntry>): Promise<Lock> {
  const lock: Lock = { lockfileVersion: 1, distfiles };
  await writeLock(path, lock);
  return lock;
}
