import { ByteStream } from './byte-stream.js';

/** One member of an archive, as handed to the scanner. */
export interface ArchiveMember {
  path: string;
  size: number;
  /** The member's bytes; whatever the caller leaves unread is skipped by the archive reader. */
  body: ByteStream;
}

/** A member the archive holds but whose bytes cannot be read (e.g. an encrypted zip entry). */
export interface UnreadableMember {
  path: string;
  unreadable: string;
}

/**
 * Exactly `length` bytes of `parent`, as a stream of their own (for formats that concatenate
 * members); reading it throws if `parent` ends first.
 */
export function slice(parent: ByteStream, length: number, what = 'a member'): ByteStream {
  let remaining = length;
  const truncated = () => new Error(`truncated archive: it ends ${remaining} bytes early, inside ${what}`);
  return new ByteStream(
    async () => {
      if (remaining === 0) return null;
      const chunk = await parent.readMax(remaining);
      if (chunk === null) throw truncated();
      remaining -= chunk.length;
      return chunk;
    },
    async () => {
      const skipped = remaining === 0 || parent.skipHeld(remaining) ? remaining : await parent.skip(remaining);
      remaining -= skipped;
      if (remaining > 0) throw truncated();
      return skipped;
    },
  );
}
