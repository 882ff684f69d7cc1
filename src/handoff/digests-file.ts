import { hashFile as hashWith } from '../distfiles/hash.js';
import { base64DigestToHex } from '../distfiles/integrity.js';
import { DIGESTS_ALGORITHMS, type DigestEntry } from '../stage/catalyst-files.js';
import { BootstrapError } from '../util/errors.js';

/** Streams the file once through every given DIGESTS algorithm; hex digests by DIGESTS name. */
export async function hashFile(path: string, algorithms: string[]): Promise<Record<string, string>> {
  const { digests } = await hashWith(path, algorithms.map((a) => DIGESTS_ALGORITHMS[a]!));
  return Object.fromEntries(algorithms.map((a) => [a, base64DigestToHex(digests[DIGESTS_ALGORITHMS[a]!]!)]));
}

/**
 * Checks `path` (named `fileName` in the DIGESTS) against every known-algorithm entry for it.
 * A SHA512 entry is required: it is what `sha512sum -c` and Catalyst users check.
 */
export async function verifyAgainstDigests(path: string, fileName: string, entries: DigestEntry[], where: string): Promise<void> {
  const mine = entries.filter((e) => e.fileName === fileName && DIGESTS_ALGORITHMS[e.algorithm] !== undefined);
  if (!mine.some((e) => e.algorithm === 'SHA512')) {
    throw new BootstrapError('EHANDOFF_DIGESTS_MISSING', `${where} has no SHA512 line for ${fileName}`, {
      hint: 'The DIGESTS file must list the seed under its current name; regenerate it, or rename the seed back.',
    });
  }
  const computed = await hashFile(path, [...new Set(mine.map((e) => e.algorithm))]);
  for (const entry of mine) {
    if (computed[entry.algorithm] !== entry.hex) {
      throw new BootstrapError('EHANDOFF_DIGEST_MISMATCH', `${path} does not match its ${entry.algorithm} digest in ${where}:${entry.line}`, {
        expected: entry.hex,
        found: computed[entry.algorithm],
        hint: 'The seed changed or was damaged in transit; copy or pack it again.',
        exitCode: 1,
      });
    }
  }
}
