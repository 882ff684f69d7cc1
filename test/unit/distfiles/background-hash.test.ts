import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackgroundHash } from '../../../src/distfiles/background-hash.js';
import { acquireChunk } from '../../../src/distfiles/chunk-pool.js';

describe('hashing on a worker thread', () => {
  it('gives the digests of moved and copied chunks in order, and starts afresh after reset', async () => {
    const data = randomBytes(5 << 20);
    const hash = new BackgroundHash(['sha512', 'blake2b512']);
    try {
      for (let offset = 0; offset < data.length; offset += 1 << 20) {
        const chunk = acquireChunk(1 << 20);
        data.copy(chunk, 0, offset, offset + (1 << 20));
        await hash.update(chunk, true);
        expect(chunk.byteLength).toBe(0); // moved to the worker
      }
      await hash.update(data.subarray(0, 10), true); // part of a larger buffer: copied, not moved
      const all = Buffer.concat([data, data.subarray(0, 10)]);
      expect(hash.size).toBe(all.length);
      expect(await hash.digests()).toEqual({
        sha512: createHash('sha512').update(all).digest('base64'),
        blake2b512: createHash('blake2b512').update(all).digest('base64'),
      });
      await hash.reset();
      await hash.update(Buffer.from('x'));
      expect((await hash.digests()).sha512).toBe(createHash('sha512').update('x').digest('base64'));
    } finally {
      await hash.close();
    }
  });

  it('reuses a finished worker for the next file with its own algorithms', async () => {
    const first = new BackgroundHash(['sha512']);
    await first.update(Buffer.from('a'));
    await first.close();
    const second = new BackgroundHash(['sha256']);
    try {
      await second.update(Buffer.from('b'));
      expect(await second.digests()).toEqual({ sha256: createHash('sha256').update('b').digest('base64') });
    } finally {
      await second.close();
    }
  });
});
