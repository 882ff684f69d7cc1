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

/** Exactly `length` bytes of `parent`, as a stream of their own (for formats that concatenate members). */
export function slice(parent: ByteStream, length: number): ByteStream {
  async function* take(): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      const chunk = await parent.readMax(remaining);
      if (chunk === null) throw new Error(`stream ended ${remaining} bytes early`);
      remaining -= chunk.length;
      yield chunk;
    }
  }
  return new ByteStream(take());
}
