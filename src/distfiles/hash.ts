import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { type Digests, type HashAlgorithm, formatIntegrity } from './integrity.js';

/** 1 MiB: with the default 64 KiB chunks sha512 runs at less than half the speed. */
export const CHUNK_BYTES = 1 << 20;

/** Several digests of one byte stream, fed as it is written. */
export class MultiHash {
  private readonly hashes: Array<[HashAlgorithm, Hash]>;
  size = 0;

  constructor(readonly algorithms: readonly HashAlgorithm[]) {
    this.hashes = algorithms.map((a) => [a, createHash(a)]);
  }

  update(chunk: Uint8Array): void {
    for (const [, hash] of this.hashes) hash.update(chunk);
    this.size += chunk.length;
  }

  digests(): Digests {
    const out: Digests = {};
    for (const [algorithm, hash] of this.hashes) out[algorithm] = hash.digest('base64');
    return out;
  }
}

/**
 * Feeds the first `limit` bytes of a file (all of it without a limit) into `hash`, in 1 MiB
 * reads; used to verify files already on disk.
 */
export async function hashFileInto(path: string, hash: { update(chunk: Uint8Array): void | Promise<void> }, limit = Infinity): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let position = 0;
    while (position < limit) {
      const want = Math.min(CHUNK_BYTES, limit - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) break;
      await hash.update(buffer.subarray(0, bytesRead));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

export async function hashFile(path: string, algorithms: readonly HashAlgorithm[]): Promise<{ size: number; digests: Digests; integrity: string }> {
  const hash = new MultiHash(algorithms);
  await hashFileInto(path, hash);
  const digests = hash.digests();
  return { size: hash.size, digests, integrity: formatIntegrity(digests) };
}
