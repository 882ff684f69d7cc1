import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { execa } from 'execa';
import { hashFile } from '../distfiles/hash.js';
import { algorithmsOf, mismatchedAlgorithms } from '../distfiles/integrity.js';
import { tiedToParent } from '../host/tie-to-parent.js';
import { BootstrapError } from '../util/errors.js';
import type { PinnedFile, TreeSnapshot } from './lock-entries.js';

/** The store file of a lock entry, or an error saying how to get it. */
export async function storeFile(storeDir: string, name: string): Promise<string> {
  const path = join(storeDir, name);
  if (!(await stat(path).catch(() => undefined))?.isFile()) {
    throw new BootstrapError('ENOTSTORED', `${name} is not in the distfile store ${storeDir}`, {
      hint: `Fetch it with \`bootstrap fetch --dest ${storeDir}\` (the lock pins it).`,
    });
  }
  return path;
}

/**
 * Places the pinned live-bootstrap tree at `dest`, as `git clone --recursive` at the pinned
 * commits would: live-bootstrap's snapshot, then each submodule's into its path, parents
 * first. Built beside `dest` under a temporary name and renamed into place, so `dest` is
 * either the whole tree or absent; an earlier tree at `dest` is replaced.
 */
export async function placeTree(snapshots: readonly TreeSnapshot[], storeDir: string, dest: string): Promise<void> {
  const files = await Promise.all(snapshots.map((s) => storeFile(storeDir, s.name)));
  // A tree half placed by an attempt that was killed: the work directory's lock says no other
  // run is placing one now.
  for (const name of await readdir(dirname(dest)).catch(() => [] as string[])) {
    if (name.startsWith(`.${basename(dest)}.`) && name.endsWith('.tmp')) await rm(join(dirname(dest), name), { recursive: true, force: true });
  }
  const temp = join(dirname(dest), `.${basename(dest)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    for (const [i, snapshot] of snapshots.entries()) {
      const into = join(temp, snapshot.path);
      await mkdir(into, { recursive: true });
      const [file, args] = tiedToParent('tar', ['--extract', '--no-same-owner', '--file', files[i]!, '--directory', into]);
      const result = await execa(file, args, { reject: false, all: true });
      if (result.exitCode !== 0) {
        throw new BootstrapError('EUNTAR', `${files[i]}: tar could not extract it (${result.all?.trim().split('\n').pop() ?? `exit ${result.exitCode}`})`, {
          hint: 'The store holds a damaged snapshot: remove it and fetch it again with `bootstrap fetch`.',
        });
      }
    }
    await rm(dest, { recursive: true, force: true });
    await rename(temp, dest);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
}

/** Checks a stored file against the lock's integrity; the error names both digests. */
export async function verifyStored(path: string, file: PinnedFile): Promise<void> {
  const hashed = await hashFile(path, algorithmsOf(file.integrity));
  const bad = mismatchedAlgorithms(file.integrity, hashed.digests);
  if (bad.length > 0) {
    throw new BootstrapError('EINTEGRITY', `${path}: ${bad.join(' and ')} differs from the lock's ${file.integrity} (found ${hashed.integrity})`, {
      hint: 'Remove the file from the store and fetch it again with `bootstrap fetch`.',
    });
  }
}
