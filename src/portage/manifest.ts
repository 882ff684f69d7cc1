import { BootstrapError } from '../util/errors.js';

/** One `DIST <name> <size> <HASH> <hex> ...` line of a Gentoo Manifest. */
export interface ManifestDist {
  name: string;
  size: number;
  /** Hex digests by Manifest hash name (`BLAKE2B`, `SHA512`, ...). */
  hashes: Record<string, string>;
  line: number;
}

/**
 * The DIST lines of a Manifest (thin Manifests have only those; EBUILD, AUX and MISC lines
 * of thick ones are skipped). Errors name the file and line.
 */
export function parseManifestDist(text: string, where: string): ManifestDist[] {
  const dists: ManifestDist[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    const fields = raw.trim().split(/\s+/).filter(Boolean);
    if (fields[0] !== 'DIST') return;
    const [, name, sizeText, ...pairs] = fields;
    const fail = (why: string): never => {
      throw new BootstrapError('EMANIFEST', `${where}:${line}: ${why}`, {
        hint: 'A DIST line is: DIST <file> <size> <HASH> <hex> [<HASH> <hex> ...]',
      });
    };
    if (name === undefined || sizeText === undefined) return fail('DIST line without a file name and size');
    if (!/^\d+$/.test(sizeText)) return fail(`size "${sizeText}" of ${name} is not a number of bytes`);
    if (pairs.length === 0 || pairs.length % 2 !== 0) return fail(`${name}: hashes must come as <HASH> <hex> pairs`);
    const hashes: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) {
      const [hashName, hex] = [pairs[i]!, pairs[i + 1]!];
      if (!/^[0-9a-fA-F]+$/.test(hex)) fail(`${name}: ${hashName} value is not hex`);
      hashes[hashName] = hex.toLowerCase();
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) fail(`${name} is already listed on line ${earlier}`);
    seen.set(name, line);
    dists.push({ name, size: Number(sizeText), hashes, line });
  });
  return dists;
}
