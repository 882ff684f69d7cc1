import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BackgroundHash } from '../../../src/distfiles/background-hash.js';
import { acquireChunk, releaseChunk } from '../../../src/distfiles/chunk-pool.js';

const digest = (algorithm: string, data: Uint8Array) => createHash(algorithm).update(data).digest('base64');

describe('hashing on shared threads', () => {
  it('hashes pooled pieces in place and plain chunks by copy, in order, and says when each piece is done', async () => {
    const data = randomBytes(9 << 20);
    const hash = new BackgroundHash(['sha512', 'blake2b512']);
    const hashed: number[] = [];
    try {
      for (let i = 0; i < 9; i++) {
        const piece = acquireChunk(1 << 20);
        expect(piece.buffer).toBeInstanceOf(SharedArrayBuffer);
        data.copy(piece, 0, i << 20, (i + 1) << 20);
        await hash.update(piece, () => {
          hashed.push(i);
          // Changed only once both algorithms are done with it: the digests below stay right.
          piece.fill(0);
          releaseChunk(piece);
        });
      }
      const plain = Buffer.from(data.subarray(0, 10));
      await hash.update(plain);
      plain.fill(0); // copied into the message: changing it now changes nothing
      const all = Buffer.concat([data, data.subarray(0, 10)]);
      expect(hash.size).toBe(all.length);
      expect(await hash.digests()).toEqual({ sha512: digest('sha512', all), blake2b512: digest('blake2b512', all) });
      expect(hashed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
      await hash.reset();
      expect(hash.size).toBe(0);
      await hash.update(Buffer.from('x'));
      expect(await hash.digests()).toEqual({ sha512: digest('sha512', Buffer.from('x')), blake2b512: digest('blake2b512', Buffer.from('x')) });
    } finally {
      await hash.close();
    }
  });

  it('keeps the files that share a thread apart, and serves the next file after one closes', async () => {
    const files = Array.from({ length: 5 }, (_, i) => ({ data: randomBytes((3 << 20) + i), hash: new BackgroundHash(i % 2 ? ['sha256'] : ['sha512', 'sha256']) }));
    try {
      // Interleaved, as concurrent downloads feed them.
      for (let offset = 0; offset < (3 << 20) + 5; offset += 1 << 19) {
        await Promise.all(files.map(({ data, hash }) => (offset < data.length ? hash.update(data.subarray(offset, offset + (1 << 19))) : undefined)));
      }
      for (const [i, { data, hash }] of files.entries()) {
        const expected = i % 2 ? { sha256: digest('sha256', data) } : { sha512: digest('sha512', data), sha256: digest('sha256', data) };
        expect(await hash.digests()).toEqual(expected);
      }
    } finally {
      await Promise.all(files.map(({ hash }) => hash.close()));
    }
    const next = new BackgroundHash(['sha256']);
    try {
      await next.update(Buffer.from('b'));
      expect(await next.digests()).toEqual({ sha256: digest('sha256', Buffer.from('b')) });
      await next.close();
      await expect(next.digests()).rejects.toThrow(/closed/);
    } finally {
      await next.close();
    }
  });

  it('never hands one pooled piece to two owners', () => {
    const piece = acquireChunk(1 << 20);
    releaseChunk(piece);
    releaseChunk(piece);
    const a = acquireChunk(1 << 20);
    const b = acquireChunk(1 << 20);
    expect(a.buffer).not.toBe(b.buffer);
  });
});
