import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export interface Digests {
  size: number;
  sha512: string;
  blake2b: string;
}

/** A pass-through that hashes (SHA-512 and BLAKE2b-512, Catalyst's pair) and counts what flows. */
export class HashingCounter extends Transform {
  private readonly sha512: Hash = createHash('sha512');
  private readonly blake2b: Hash = createHash('blake2b512');
  private bytes = 0;

  constructor() {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sha512.update(chunk);
    this.blake2b.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** Only after the stream has ended. */
  digests(): Digests {
    return { size: this.bytes, sha512: this.sha512.digest('hex'), blake2b: this.blake2b.digest('hex') };
  }
}

/** A pass-through that shows each chunk to `onChunk` (to count bytes or lines). */
export class Tap extends Transform {
  constructor(private readonly onChunk: (chunk: Buffer) => void) {
    super({ highWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.onChunk(chunk);
    callback(null, chunk);
  }
}

export function digestsOf(data: Buffer): Digests {
  return {
    size: data.length,
    sha512: createHash('sha512').update(data).digest('hex'),
    blake2b: createHash('blake2b512').update(data).digest('hex'),
  };
}

export function sri(sha512hex: string): string {
  return `sha512-${Buffer.from(sha512hex, 'hex').toString('base64')}`;
}
