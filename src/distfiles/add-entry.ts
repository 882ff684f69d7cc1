import { BootstrapError } from '../util/errors.js';
import type { FetchEventHandler } from './events.js';
import { openFetchSession, withDistfileLock } from './ensure.js';
import { fetchOne } from './fetch-one.js';
import { type DistfileKind, LOCKFILE_VERSION, type Lock, type LockEntry, distfileNameProblem, lockEntrySchema } from './lock-schema.js';
import { readLock } from './read-lock.js';
import type { FetchTuning } from './tuning.js';
import { updateLock, writeLock } from './write-lock.js';

export interface AddOptions {
  lockPath: string;
  url: string;
  storeDir: string;
  name?: string;
  kind?: DistfileKind;
  /** Where the hash comes from; default: fetched from URL on today's date (trust on first use). */
  from?: string;
  onProgress?: FetchEventHandler;
  signal?: AbortSignal;
  tuning?: Partial<FetchTuning>;
}

/**
 * `lock add`: downloads URL into the store, hashes it (sha512 and blake2b512) and adds a
 * pinned entry. A lock that does not exist yet is created; an existing name is refused.
 */
export async function addEntry(options: AddOptions): Promise<{ name: string; entry: LockEntry }> {
  const name = options.name ?? nameFromUrl(options.url);
  const problem = distfileNameProblem(name);
  if (problem) throw new BootstrapError('EBADNAME', `distfile name "${name}" ${problem}`, { hint: 'Give a plain file name with --name.' });
  const draft = lockEntrySchema.safeParse({ size: null, integrity: null, urls: [options.url], kind: options.kind ?? 'source' });
  if (!draft.success) throw new BootstrapError('EBADURL', `${options.url}: ${draft.error.issues.map((i) => i.message).join('; ')}`);
  if ((await readOrCreateLock(options.lockPath)).distfiles[name]) {
    throw new BootstrapError('EEXISTS', `${options.lockPath} already has an entry named ${name}`, { hint: 'Edit or remove it first, or choose another --name.' });
  }
  const session = await openFetchSession(options);
  let fetched;
  try {
    fetched = await withDistfileLock(name, session.context, () => fetchOne(name, draft.data, session.context));
  } finally {
    await session.close();
  }
  const entry: LockEntry = {
    ...draft.data,
    size: fetched.size,
    integrity: fetched.integrity,
    from: options.from ?? `fetched from ${fetched.source} on ${new Date().toISOString().slice(0, 10)} (trust on first use)`,
  };
  await updateLock(options.lockPath, (lock) => {
    if (lock.distfiles[name]) throw new BootstrapError('EEXISTS', `${options.lockPath} got an entry named ${name} while it was being fetched`);
    lock.distfiles[name] = entry;
  });
  return { name, entry };
}

/** The lock, created empty when it does not exist yet. */
async function readOrCreateLock(lockPath: string): Promise<Lock> {
  try {
    return await readLock(lockPath);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ELOCKMISSING') throw error;
    const lock: Lock = { lockfileVersion: LOCKFILE_VERSION, distfiles: {} };
    await writeLock(lockPath, lock);
    return lock;
  }
}

function nameFromUrl(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new BootstrapError('EBADURL', `"${url}" is not a URL`);
  }
  const last = decodeURIComponent(path.split('/').filter(Boolean).pop() ?? '');
  if (!last) throw new BootstrapError('EBADNAME', `${url} has no file name in its path`, { hint: 'Give one with --name.' });
  return last;
}
