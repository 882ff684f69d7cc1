import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { hashFileInto } from '../distfiles/hash.js';
import { errnoCode } from '../util/errors.js';
import { readPackagesIndex, type IndexEntry, type PackagesIndex } from './packages-index.js';

/** Portage's hash names (as in Packages and Manifests) and Node's. */
const HASHES: Readonly<Record<string, string>> = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512', BLAKE2B: 'blake2b512' };

export interface PackageCheck {
  entry: IndexEntry;
  /** What is wrong with this package's file; empty when it matches the index. */
  problems: string[];
  /** Every hash computed (Portage's names, lower-case hex), for listings. */
  digests: Record<string, string>;
  /** The file's modification time when it was hashed (unchanged while hashing). */
  mtimeMs?: number;
}

/** Digests already computed, by relative path, with the stat they were computed for. */
export type DigestCache = Map<string, { stamp: string; digests: Record<string, string> }>;

export interface IndexVerdict {
  index: PackagesIndex;
  checks: PackageCheck[];
  /** Package files in the folder that the index does not list (relative paths). */
  unlisted: string[];
}

/** Binary package files as Portage names them: GPKG, XPAK (`.tbz2`, `.xpak`). */
export const PACKAGE_FILE = /\.(gpkg\.tar|tbz2|xpak)$/;

/**
 * Checks every package the `Packages` index of `pkgdir` lists against its file: present, the
 * listed SIZE, and each hash the index lists (MD5 and SHA1 as Portage writes them). Always
 * computes sha512 too, for provenance listings.
 */
export async function verifyPackagesIndex(pkgdir: string, cache: DigestCache = new Map()): Promise<IndexVerdict> {
  const index = await readPackagesIndex(pkgdir);
  const checks: PackageCheck[] = [];
  for (const entry of index.packages) checks.push(await checkPackage(pkgdir, entry, cache));
  const listed = new Set(index.packages.map((p) => p.path));
  const unlisted = (await packageFiles(pkgdir)).filter((path) => !listed.has(path));
  return { index, checks, unlisted };
}

async function checkPackage(pkgdir: string, entry: IndexEntry, cache: DigestCache): Promise<PackageCheck> {
  const file = join(pkgdir, entry.path);
  const listedHashes = Object.keys(HASHES).filter((name) => entry.fields[name] !== undefined);
  try {
    const info = await stat(file);
    if (!info.isFile()) return { entry, problems: [`${entry.path} is not a regular file`], digests: {} };
    const problems: string[] = [];
    if (info.size !== entry.size) problems.push(`size ${info.size}, the index says ${entry.size}`);
    const stamp = `${info.ino}:${info.size}:${info.mtimeMs}`;
    const names = [...new Set([...listedHashes, 'SHA512'])];
    const cached = cache.get(entry.path);
    const digests = cached?.stamp === stamp && names.every((n) => cached.digests[n]) ? cached.digests : await hashPackage(file, names);
    const after = await stat(file);
    if (`${after.ino}:${after.size}:${after.mtimeMs}` !== stamp) return { entry, problems: [`${entry.path} changed while it was being checked`], digests: {} };
    cache.set(entry.path, { stamp, digests });
    for (const name of listedHashes) {
      const want = entry.fields[name]!.toLowerCase();
      if (digests[name] !== want) problems.push(`${name} ${digests[name]}, the index says ${want}`);
    }
    return { entry, problems, digests, mtimeMs: info.mtimeMs };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { entry, problems: [`${entry.path} is missing`], digests: {} };
    throw error;
  }
}

/** Portage's hashes of a file (lower-case hex), in one read with the fetcher's 1 MiB reads. */
async function hashPackage(file: string, names: string[]): Promise<Record<string, string>> {
  const hashes = names.map((name) => [name, createHash(HASHES[name]!)] as const);
  await hashFileInto(file, { update: (chunk) => hashes.forEach(([, hash]) => hash.update(chunk)) });
  return Object.fromEntries(hashes.map(([name, hash]) => [name, hash.digest('hex')]));
}

/** Every binary package file below `pkgdir`, relative to it, sorted. */
export async function packageFiles(pkgdir: string): Promise<string[]> {
  const entries = await readdir(pkgdir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && PACKAGE_FILE.test(e.name))
    .map((e) => relative(pkgdir, join(e.parentPath, e.name)))
    .sort();
}
