import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundHash } from '../../../src/distfiles/background-hash.js';
import { tempDir } from '../../helpers/env.js';

const digest = (algorithm: string, data: Uint8Array) => createHash(algorithm).update(data).digest('base64');

describe('hashing a file as it is written, on shared threads', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => (dir = tempDir('background-hash-')));
  afterEach(() => dir.remove());

  it('hashes the bytes the file holds, up to where the writer got, and starts afresh after reset', async () => {
    const path = join(dir.path, 'growing');
    const data = randomBytes((9 << 20) + 5);
    writeFileSync(path, '');
    const hash = new BackgroundHash(path, ['sha512', 'blake2b512']);
    try {
      for (let offset = 0; offset < data.length; offset += 1 << 20) {
        appendFileSync(path, data.subarray(offset, offset + (1 << 20)));
        await hash.extend(Math.min(offset + (1 << 20), data.length));
      }
      // Bytes past what the writer announced are not hashed.
      appendFileSync(path, 'not yet');
      expect(hash.size).toBe(data.length);
      expect(await hash.digests()).toEqual({ sha512: digest('sha512', data), blake2b512: digest('blake2b512', data) });
      await hash.reset();
      expect(hash.size).toBe(0);
      writeFileSync(path, 'x');
      await hash.extend(1);
      expect(await hash.digests()).toEqual({ sha512: digest('sha512', Buffer.from('x')), blake2b512: digest('blake2b512', Buffer.from('x')) });
    } finally {
      await hash.close();
    }
  });

  it('hashes a long file already on disk, handed over at once, in steps', async () => {
    const path = join(dir.path, 'resumed');
    const data = randomBytes((20 << 20) + 7);
    writeFileSync(path, data);
    const hash = new BackgroundHash(path, ['sha512']);
    try {
      await hash.extend(data.length);
      expect(hash.size).toBe(data.length);
      expect(await hash.digests()).toEqual({ sha512: digest('sha512', data) });
    } finally {
      await hash.close();
    }
  });

  it('keeps the files that share a thread apart, and serves the next file after one closes', async () => {
    const files = Array.from({ length: 5 }, (_, i) => {
      const path = join(dir.path, `f${i}`);
      writeFileSync(path, '');
      return { path, data: randomBytes((3 << 20) + i), hash: new BackgroundHash(path, i % 2 ? ['sha256'] : ['sha512', 'sha256']) };
    });
    try {
      // Interleaved, as concurrent downloads write them.
      for (let offset = 0; offset < (3 << 20) + 5; offset += 1 << 19) {
        await Promise.all(
          files.map(({ path, data, hash }) => {
            if (offset >= data.length) return undefined;
            appendFileSync(path, data.subarray(offset, offset + (1 << 19)));
            return hash.extend(Math.min(offset + (1 << 19), data.length));
          }),
        );
      }
      for (const [i, { data, hash }] of files.entries()) {
        const expected = i % 2 ? { sha256: digest('sha256', data) } : { sha512: digest('sha512', data), sha256: digest('sha256', data) };
        expect(await hash.digests()).toEqual(expected);
      }
    } finally {
      await Promise.all(files.map(({ hash }) => hash.close()));
    }
    const path = join(dir.path, 'next');
    writeFileSync(path, 'b');
    const next = new BackgroundHash(path, ['sha256']);
    try {
      await next.extend(1);
      expect(await next.digests()).toEqual({ sha256: digest('sha256', Buffer.from('b')) });
      await next.close();
      await expect(next.digests()).rejects.toThrow(/closed/);
    } finally {
      await next.close();
    }
  });

  it('fails, naming the file, when the file holds fewer bytes than the writer announced', async () => {
    const path = join(dir.path, 'short');
    writeFileSync(path, randomBytes(4096));
    const hash = new BackgroundHash(path, ['sha512']);
    try {
      truncateSync(path, 100);
      await hash.extend(4096).catch(() => undefined);
      await expect(hash.digests()).rejects.toThrow(`hashing ${path}: ${path} ends at byte 100, before the 4096 bytes written to it`);
    } finally {
      await hash.close();
    }
    const missing = new BackgroundHash(join(dir.path, 'missing'), ['sha512']);
    try {
      await missing.extend(1).catch(() => undefined);
      await expect(missing.digests()).rejects.toThrow(/ENOENT/);
    } finally {
      await missing.close();
    }
  });
});
