import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { type ManifestDist, parseManifestDist } from '../portage/manifest.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { type Digests, type HashAlgorithm, formatIntegrity, hexDigestToBase64, parseIntegrity } from './integrity.js';
import { type DistfileKind, distfileNameProblem } from './lock-schema.js';
import { updateLock } from './write-lock.js';

/** `from` texts of entries pinned without an outside source (see docs/lock-format.md). */
const TRUSTED_ON_FIRST_USE = /^(pinned on first use|recorded during|fetched from)/;

/** Manifest hash names and the SRI algorithm each becomes. */
const MANIFEST_HASHES: Record<string, HashAlgorithm> = { SHA512: 'sha512', BLAKE2B: 'blake2b512', SHA256: 'sha256' };

export interface ImportOutcome {
  name: string;
  status: 'pinned' | 'added' | 'matches' | 'confirmed' | 'skipped';
  detail?: string;
}

export interface ImportOptions {
  lockPath: string;
  manifestPath: string;
  /** Text for `from`; default `gentoo Manifest <category>/<package>` from the Manifest's path. */
  from?: string;
  /** Adds names the lock lacks, with URL `<urlBase>/<name>`; without it they are skipped. */
  urlBase?: string;
  kind?: DistfileKind;
}

/**
 * Applies a Manifest's DIST lines to the lock: unpinned entries get the Manifest's size and
 * digests, pinned ones are compared (any difference is an error, and nothing is written; an
 * entry that was only trusted on first use and agrees takes the Manifest as its `from`),
 * names the lock lacks are added when a URL base is given. One atomic write at the end.
 */
export async function importManifest(options: ImportOptions): Promise<ImportOutcome[]> {
  let text: string;
  try {
    text = await readFile(options.manifestPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new BootstrapError('ENOENT', `${options.manifestPath}: no such Manifest`);
    throw error;
  }
  const dists = parseManifestDist(text, options.manifestPath);
  const from = options.from ?? defaultFrom(options.manifestPath);
  return updateLock(options.lockPath, (lock) => {
    const outcomes: ImportOutcome[] = [];
    const conflicts: string[] = [];
    for (const dist of dists) {
      const digests = digestsOf(dist, options.manifestPath);
      const integrity = formatIntegrity(digests);
      const entry = lock.distfiles[dist.name];
      if (!entry) {
        if (options.urlBase === undefined) {
          outcomes.push({ name: dist.name, status: 'skipped', detail: 'not in the lock (give --url BASE to add it)' });
          continue;
        }
        const problem = distfileNameProblem(dist.name);
        if (problem) throw new BootstrapError('EMANIFEST', `${options.manifestPath}:${dist.line}: distfile name "${dist.name}" ${problem}`);
        lock.distfiles[dist.name] = { size: dist.size, integrity, urls: [`${options.urlBase.replace(/\/+$/, '')}/${dist.name}`], kind: options.kind ?? 'source', from };
        outcomes.push({ name: dist.name, status: 'added' });
        continue;
      }
      if (entry.integrity === null) {
        if (entry.size !== null && entry.size !== dist.size) {
          conflicts.push(`${dist.name}: the lock records ${entry.size} bytes, the Manifest ${dist.size} (line ${dist.line})`);
          continue;
        }
        Object.assign(entry, { size: dist.size, integrity, from });
        outcomes.push({ name: dist.name, status: 'pinned' });
        continue;
      }
      const known = parseIntegrity(entry.integrity);
      const shared = Object.values(MANIFEST_HASHES).filter((a) => known[a] !== undefined && digests[a] !== undefined);
      const differing = shared.filter((a) => known[a] !== digests[a]);
      if (entry.size !== dist.size || differing.length > 0 || shared.length === 0) {
        const why = entry.size !== dist.size ? `size ${entry.size} in the lock, ${dist.size} in the Manifest` : shared.length === 0 ? 'no hash in common' : `${differing.join(', ')} differ`;
        conflicts.push(`${dist.name} (line ${dist.line}): ${why}`);
        continue;
      }
      if (entry.from !== undefined && TRUSTED_ON_FIRST_USE.test(entry.from)) {
        // Bytes first trusted on first use now agree with Gentoo's Manifest: record the
        // stronger source, and any digest the Manifest adds.
        const previous = entry.from;
        Object.assign(entry, { integrity: formatIntegrity({ ...known, ...digests }), from });
        outcomes.push({ name: dist.name, status: 'confirmed', detail: `${shared.join(', ')} agree; was: ${previous}` });
        continue;
      }
      outcomes.push({ name: dist.name, status: 'matches', detail: shared.join(', ') });
    }
    if (conflicts.length > 0) {
      throw new BootstrapError('EMANIFESTMISMATCH', `${options.manifestPath} disagrees with ${options.lockPath}:\n  ${conflicts.join('\n  ')}`, {
        hint: 'Find out which is right before changing either; the lock was not changed.',
        exitCode: 1,
      });
    }
    return outcomes;
  });
}

function digestsOf(dist: ManifestDist, where: string): Digests {
  const digests: Digests = {};
  for (const [hashName, hex] of Object.entries(dist.hashes)) {
    const algorithm = MANIFEST_HASHES[hashName];
    if (algorithm) digests[algorithm] = hexDigestToBase64(algorithm, hex);
  }
  if (!digests.sha512) {
    throw new BootstrapError('EMANIFEST', `${where}:${dist.line}: ${dist.name} has no SHA512 hash, which every pinned entry needs`);
  }
  return digests;
}

/** `.../sys-fs/squashfs-tools/Manifest` → `gentoo Manifest sys-fs/squashfs-tools`. */
function defaultFrom(manifestPath: string): string {
  const dir = dirname(resolve(manifestPath));
  return `gentoo Manifest ${basename(dirname(dir))}/${basename(dir)}`;
}
