import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { BootstrapError } from '../util/errors.js';

/** Catalyst's DIGESTS algorithm names (upper-cased in the file) and Node's names for them. */
const ALGORITHMS: Record<string, string> = { SHA512: 'sha512', BLAKE2B: 'blake2b512' };

/** One `<hex>  <name>` line under a `# <ALGO> HASH` header. */
export interface DigestEntry {
  algorithm: string;
  hex: string;
  fileName: string;
  line: number;
}

/**
 * Reads a Catalyst `.DIGESTS` file: blocks of `# <ALGO> HASH` followed by `<hex>  <file>`
 * lines. Unknown algorithms are kept (and ignored when verifying); a hash line with no header
 * before it, or a malformed one, is an error naming the line.
 */
export function parseDigests(text: string, where: string): DigestEntry[] {
  const entries: DigestEntry[] = [];
  let algorithm: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (line === '') return;
    const header = /^# ([A-Z0-9_-]+) HASH$/.exec(line);
    if (header) {
      algorithm = header[1];
      return;
    }
    const hashLine = /^([0-9a-f]+) [ *](.+)$/.exec(line);
    if (!hashLine || algorithm === undefined) {
      throw new BootstrapError('EHANDOFF_DIGESTS_FORMAT', `${where}:${index + 1}: not a DIGESTS line`, {
        expected: '"# SHA512 HASH" (or another algorithm) followed by "<hex>  <file name>" lines',
        found: line,
        hint: 'Regenerate the DIGESTS file with `bootstrap pack` or Catalyst.',
      });
    }
    entries.push({ algorithm, hex: hashLine[1]!, fileName: hashLine[2]!.trim(), line: index + 1 });
  });
  return entries;
}

/** Streams the file once through every algorithm Catalyst and we both know. */
export async function hashFile(path: string, algorithms: string[]): Promise<Record<string, string>> {
  const hashes = Object.fromEntries(algorithms.map((a) => [a, createHash(ALGORITHMS[a]!)]));
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    for (const h of Object.values(hashes)) h.update(chunk as Buffer);
  }
  return Object.fromEntries(Object.entries(hashes).map(([a, h]) => [a, h.digest('hex')]));
}

/**
 * Checks `path` (named `fileName` in the DIGESTS) against every known-algorithm entry for it.
 * A SHA512 entry is required: it is what `sha512sum -c` and Catalyst users check.
 */
export async function verifyAgainstDigests(path: string, fileName: string, entries: DigestEntry[], where: string): Promise<void> {
  const mine = entries.filter((e) => e.fileName === fileName && ALGORITHMS[e.algorithm] !== undefined);
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
