import type { BigIntStats } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { errnoCode } from '../util/errors.js';
import { type DistfileHolder, type DistfileLock, lockDistfile } from './distfile-lock.js';
import { hashFile } from './hash.js';
import { storeLockKey } from './store-key.js';
import { type Digests, type HashAlgorithm, PIN_ALGORITHMS, algorithmsOf, formatIntegrity, mismatchedAlgorithms, parseIntegrity } from './integrity.js';
import type { LockEntry } from './lock-schema.js';

export interface StoredFile {
  path: string;
  size: number;
  /** Every digest known for the file, as an SRI string. */
  integrity: string;
}

/**
 * What `.verified/<name>.json` says: this inode, at this size and mtime, had these digests,
 * as seen during this boot. Files are renamed into place without fsync (it would double the
 * time of a large download); after a crash of the machine the boot id differs and every file
 * is hashed again, so bytes lost with the page cache are found and fetched again.
 */
interface VerifiedRecord {
  bootId: string;
  size: number;
  mtimeNs: string;
  ino: string;
  dev: string;
  integrity: string;
  /** For a git snapshot: the commit it was archived from (git-snapshot.ts). */
  commit?: string;
}

/**
 * A directory of distfiles by name. A file under its final name got there only after its size
 * and digests matched the lock, but it is trusted again only after a check: a full hash the
 * first time, then a comparison with the record in `.verified/` (size, mtime in ns, inode and
 * device), so later runs do not rehash gigabytes. Anything that rewrites the file changes its
 * mtime or inode and sends it back to a full hash. Downloads in progress live in `.partial/`,
 * files that failed verification in `.bad/`.
 */
export class DistfileStore {
  /** The store directory's device and inode and secret key (store-key.ts). */
  private key: string | undefined;

  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    for (const sub of ['.partial', '.verified', '.bad']) await mkdir(join(this.dir, sub), { recursive: true });
    const info = await stat(this.dir, { bigint: true });
    this.key = await storeLockKey(this.dir, info);
  }

  /**
   * The distfile's lock (see distfile-lock.ts): held from the check of the file under its
   * final name to its commit, so one process at a time writes it and the others, having
   * waited, find it committed.
   */
  lock(name: string, options: { signal?: AbortSignal; onWait?: (holder: DistfileHolder) => void }): Promise<DistfileLock> {
    if (this.key === undefined) throw new Error('DistfileStore.lock before init');
    return lockDistfile(this.key, name, options);
  }

  pathOf(name: string): string {
    return join(this.dir, name);
  }

  partialPathOf(name: string): string {
    return join(this.dir, '.partial', name);
  }

  /**
   * A fresh scratch directory for work on one distfile (a git fetch, a signature check), in
   * `.partial/`. The caller holds the distfile's lock, so any earlier one for the same name and
   * purpose was left by a process that died: it is removed first.
   */
  async workDirFor(name: string, purpose: 'git' | 'signature'): Promise<string> {
    const partial = join(this.dir, '.partial');
    const prefix = `${name}.${purpose}-`;
    for (const entry of await readdir(partial)) {
      if (entry.startsWith(prefix)) await rm(join(partial, entry), { recursive: true, force: true });
    }
    return mkdtemp(join(partial, prefix));
  }

  private recordPathOf(name: string): string {
    return join(this.dir, '.verified', `${name}.json`);
  }

  /**
   * The file under its final name if it matches `entry` (pinned), or its digests (unpinned:
   * what `--pin` would record). A present file that does not match is moved to `.bad/` and
   * reported through `onMismatch`; then the result is undefined, as for a missing file.
   */
  async check(name: string, entry: LockEntry, onMismatch?: (keptAt: string, expected: string, found: string) => void): Promise<StoredFile | undefined> {
    const path = this.pathOf(name);
    const info = await stat(path, { bigint: true }).catch((error: unknown) => (errnoCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
    if (!info?.isFile()) return undefined;
    const record = await this.readRecord(name);
    if (entry.git !== undefined) {
      // No digest in the lock to rehash against: only bootstrap's own archive of the pinned
      // commit, unchanged since, is trusted (fsynced before its rename, so across reboots too).
      if (record?.commit === entry.git.commit && sameFile(record, info)) return { path, size: record.size, integrity: record.integrity };
      const keptAt = await this.setAside(name, path);
      onMismatch?.(keptAt, `git archive of commit ${entry.git.commit}`, record ? 'changed since bootstrap archived it, or from another commit' : 'a file bootstrap has no record of making');
      return undefined;
    }
    const expected = entry.integrity ?? undefined;
    if (record && record.bootId === (await bootId()) && sameFile(record, info) && (expected === undefined || covers(record.integrity, expected))) {
      if (entry.size === null || record.size === entry.size) return { path, size: record.size, integrity: record.integrity };
    }
    const algorithms: readonly HashAlgorithm[] = expected ? algorithmsOf(expected) : PIN_ALGORITHMS;
    const found = await hashFile(path, algorithms);
    const sizeOk = entry.size === null || found.size === entry.size;
    if (sizeOk && (expected === undefined || mismatchedAlgorithms(expected, found.digests).length === 0)) {
      return this.recordVerified(name, found.digests);
    }
    const keptAt = await this.setAside(name, path);
    onMismatch?.(keptAt, describe(entry.size, expected), describe(found.size, found.integrity));
    return undefined;
  }

  /** Moves a verified download to its final name and records it. */
  async commit(name: string, partialPath: string, digests: Digests, origin: { commit?: string } = {}): Promise<StoredFile> {
    await rename(partialPath, this.pathOf(name));
    return this.recordVerified(name, digests, origin.commit);
  }

  /** Keeps a file that failed verification, under a name no lock entry can have. */
  async setAside(name: string, path: string): Promise<string> {
    const keptAt = join(this.dir, '.bad', `${name}.bad-${new Date().toISOString().replace(/[:.]/g, '')}`);
    await rename(path, keptAt);
    return keptAt;
  }

  private async recordVerified(name: string, digests: Digests, commit?: string): Promise<StoredFile> {
    const path = this.pathOf(name);
    const info = await stat(path, { bigint: true });
    const integrity = formatIntegrity(digests);
    const record: VerifiedRecord = {
      bootId: await bootId(),
      size: Number(info.size),
      mtimeNs: info.mtimeNs.toString(),
      ino: info.ino.toString(),
      dev: info.dev.toString(),
      integrity,
      ...(commit === undefined ? {} : { commit }),
    };
    // No fsync, as for the file itself: a record that did not survive a crash is simply redone.
    await writeFileAtomic(this.recordPathOf(name), `${JSON.stringify(record)}\n`, { fsync: false });
    return { path, size: record.size, integrity };
  }

  private async readRecord(name: string): Promise<VerifiedRecord | undefined> {
    try {
      const record = JSON.parse(await readFile(this.recordPathOf(name), 'utf8')) as VerifiedRecord;
      parseIntegrity(record.integrity);
      return record;
    } catch {
      // Missing or unreadable: the file is simply hashed again.
      return undefined;
    }
  }
}

let cachedBootId: Promise<string> | undefined;

/** The kernel's id of this boot; where it cannot be read, one made up per process, so records are not reused. */
function bootId(): Promise<string> {
  cachedBootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim(),
    () => `unknown-${process.pid}-${Date.now()}`,
  );
  return cachedBootId;
}

function sameFile(record: VerifiedRecord, info: BigIntStats): boolean {
  return (
    BigInt(record.size) === info.size &&
    record.mtimeNs === info.mtimeNs.toString() &&
    record.ino === info.ino.toString() &&
    record.dev === info.dev.toString()
  );
}

/** Whether digests recorded earlier include every digest of `expected`, equal. */
function covers(recorded: string, expected: string): boolean {
  const known = parseIntegrity(recorded);
  const want = parseIntegrity(expected);
  return (Object.keys(want) as HashAlgorithm[]).every((a) => known[a] === want[a]);
}

export function describe(size: number | null, integrity: string | undefined): string {
  return `${size === null ? 'any size' : `${size} bytes`}, ${integrity ?? 'any content'}`;
}
