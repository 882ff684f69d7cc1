import { base64DigestToHex, parseIntegrity } from '../distfiles/integrity.js';

/** The sha256 of an SRI string in hex (as live-bootstrap's sources files write it), or undefined. */
export function integrityToHex(integrity: string): string | undefined {
  const sha256 = parseIntegrity(integrity).sha256;
  return sha256 === undefined ? undefined : base64DigestToHex(sha256);
}
