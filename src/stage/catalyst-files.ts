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
