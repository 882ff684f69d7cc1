import ssri from 'ssri';
import { BootstrapError } from '../util/errors.js';

/**
 * SRI strings (`sha512-<base64> blake2b512-<base64>`) as the lock stores them. Only these
 * algorithms are accepted, and each digest must have its algorithm's length, so a typo or a
 * truncated paste is caught when the lock is read rather than as a mismatch after a download.
 */
export const DIGEST_BYTES = { sha512: 64, blake2b512: 64, sha384: 48, sha256: 32 } as const;
export type HashAlgorithm = keyof typeof DIGEST_BYTES;

/** What `--pin`, `lock add` and `--record` compute; also the order algorithms are written in. */
export const PIN_ALGORITHMS: readonly HashAlgorithm[] = ['sha512', 'blake2b512'];
const WRITE_ORDER: readonly HashAlgorithm[] = ['sha512', 'blake2b512', 'sha384', 'sha256'];

export type Digests = Partial<Record<HashAlgorithm, string>>;

const TOKEN = /^([a-z0-9]+)-([A-Za-z0-9+/]+={0,2})$/;

/**
 * Returns the problem with an SRI string, or undefined when it is well formed. With
 * `sha256Only`, a string of one sha256 digest is accepted too (the lock schema allows it only
 * for entries imported from an upstream's sha256 list).
 */
export function integrityProblem(text: string, options: { sha256Only?: boolean } = {}): string | undefined {
  const tokens = text.split(/\s+/).filter(Boolean);
  if (tokens.length === 0) return 'is empty';
  const seen = new Set<string>();
  for (const token of tokens) {
    const match = TOKEN.exec(token);
    if (!match) return `has "${shorten(token)}", which is not <algorithm>-<base64>`;
    const [, algorithm, base64] = match as unknown as [string, string, string];
    if (!(algorithm in DIGEST_BYTES)) {
      return `uses algorithm "${algorithm}"; accepted: ${Object.keys(DIGEST_BYTES).join(', ')}`;
    }
    if (seen.has(algorithm)) return `lists ${algorithm} twice`;
    seen.add(algorithm);
    const bytes = Buffer.from(base64, 'base64');
    const want = DIGEST_BYTES[algorithm as HashAlgorithm];
    if (bytes.length !== want || bytes.toString('base64') !== base64) {
      return `has a ${algorithm} digest of ${bytes.length} bytes; a ${algorithm} digest is ${want} bytes (${Math.ceil(want / 3) * 4} base64 characters)`;
    }
  }
  if (options.sha256Only && seen.size === 1 && seen.has('sha256')) return undefined;
  if (!seen.has('sha512')) return 'has no sha512 digest (every pinned entry needs one)';
  return undefined;
}

/** Parses a well-formed SRI string (see integrityProblem) into base64 digests by algorithm. */
export function parseIntegrity(text: string): Digests {
  const problem = integrityProblem(text, { sha256Only: true });
  if (problem) throw new BootstrapError('EINTEGRITY', `integrity "${shorten(text)}" ${problem}`);
  const parsed = ssri.parse(text);
  const digests: Digests = {};
  for (const [algorithm, hashes] of Object.entries(parsed)) {
    digests[algorithm as HashAlgorithm] = hashes[0]!.digest;
  }
  return digests;
}

export function formatIntegrity(digests: Digests): string {
  return WRITE_ORDER.filter((a) => digests[a] !== undefined)
    .map((a) => `${a}-${digests[a]}`)
    .join(' ');
}

/** Gentoo Manifests and `sha512sum` print hex; the lock wants base64. */
export function hexDigestToBase64(algorithm: HashAlgorithm, hex: string): string {
  if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== DIGEST_BYTES[algorithm] * 2) {
    throw new BootstrapError('EINTEGRITY', `"${shorten(hex)}" is not a ${algorithm} digest in hex (${DIGEST_BYTES[algorithm] * 2} hex digits)`);
  }
  return Buffer.from(hex, 'hex').toString('base64');
}

/** The other way, for in-toto digest sets and tools that print hex. */
export function base64DigestToHex(base64: string): string {
  return Buffer.from(base64, 'base64').toString('hex');
}

/** Algorithms of `expected` whose digest differs from `found` (all must be present in found). */
export function mismatchedAlgorithms(expected: string, found: Digests): HashAlgorithm[] {
  const want = parseIntegrity(expected);
  return (Object.keys(want) as HashAlgorithm[]).filter((a) => found[a] !== want[a]);
}

export function algorithmsOf(integrity: string): HashAlgorithm[] {
  return Object.keys(parseIntegrity(integrity)) as HashAlgorithm[];
}

function shorten(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
