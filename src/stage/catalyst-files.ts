import type { HashAlgorithm } from '../distfiles/integrity.js';
import { BootstrapError } from '../util/errors.js';
import type { Digests } from './hashing.js';

/**
 * Catalyst's `.DIGESTS` (catalyst/base/genbase.py): for each file in turn (the tarball, then its
 * CONTENTS), one block per algorithm of catalyst.conf's `digests` (releng uses blake2b, sha512):
 * `# BLAKE2B HASH` and the `<hex>  <basename>` line that `b2sum -c` reads, then the same for
 * SHA512 (`sha512sum -c`).
 */
export function digestsText(files: ReadonlyArray<{ name: string; digests: Digests }>): string {
  return files
    .map(({ name, digests }) => `# BLAKE2B HASH\n${digests.blake2b}  ${name}\n# SHA512 HASH\n${digests.sha512}  ${name}\n`)
    .join('');
}

/** Catalyst's DIGESTS algorithm names (upper-cased in the file) and Node's names for them. */
export const DIGESTS_ALGORITHMS: Readonly<Record<string, HashAlgorithm>> = { SHA512: 'sha512', BLAKE2B: 'blake2b512' };

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
