import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../src/distfiles/byte-queue.js';
import { FetchProgress, describeEvent } from '../../../src/distfiles/progress.js';

describe('ByteQueue', () => {
  it('hands out full pieces in order, then the rest at the end', async () => {
    const queue = new ByteQueue(10, 8);
    expect(queue.push(Buffer.from('abcdef'))).toBe(true);
    expect(queue.push(Buffer.from('ghijkl'))).toBe(false);
    expect(String(await queue.take())).toBe('abcdefgh');
    const pending = queue.take();
    queue.end();
    expect(String(await pending)).toBe('ijkl');
    expect(await queue.take()).toBeNull();
  });

  it('waits for a full piece before handing one out', async () => {
    const queue = new ByteQueue(100, 4);
    queue.push(Buffer.from('ab'));
    let taken: Buffer | null | undefined;
    void queue.take().then((b) => (taken = b));
    await new Promise((r) => setTimeout(r, 10));
    expect(taken).toBeUndefined();
    queue.push(Buffer.from('cdefghij'));
    await new Promise((r) => setTimeout(r, 0));
    expect(String(taken)).toBe('abcd');
    expect(String(await queue.take())).toBe('efgh');
    expect(queue.bytes).toBe(2);
  });

  it('gives queued data before the error that ended the body', async () => {
    const queue = new ByteQueue(100);
    queue.push(Buffer.from('xyz'));
    queue.fail(new Error('reset'));
    expect(String(await queue.take())).toBe('xyz');
    await expect(queue.take()).rejects.toThrow('reset');
  });

  it('copies what is pushed at once: the pushed chunk (a view of a socket buffer) is not kept', async () => {
    const queue = new ByteQueue(100, 8);
    const chunk = Buffer.from('only');
    queue.push(chunk);
    chunk.write('XXXX');
    queue.end();
    expect(String(await queue.take())).toBe('only');
  });

  it('hands out full pieces that own their memory whole (so they can be moved to the hashing worker)', async () => {
    const queue = new ByteQueue(1 << 20, 1024);
    queue.push(Buffer.alloc(2048, 7));
    const piece = (await queue.take())!;
    expect(piece.byteOffset).toBe(0);
    expect(piece.buffer.byteLength).toBe(1024);
  });
});

describe('fetch progress', () => {
  it('counts files done and bytes fetched', () => {
    const progress = new FetchProgress(3);
    progress.apply({ type: 'verified', name: 'a', size: 10 });
    progress.apply({ type: 'start', name: 'b', source: 'u', size: 4 << 20, offset: 0 });
    progress.apply({ type: 'bytes', name: 'b', bytes: 2 << 20, size: 4 << 20 });
    expect(progress.activeLines()).toEqual(['b: 2.0 MiB of 4.0 MiB']);
    progress.apply({ type: 'bytes', name: 'b', bytes: 4 << 20, size: 4 << 20 });
    progress.apply({ type: 'done', name: 'b', size: 4 << 20, integrity: 'sha512-x', source: 'u' });
    expect(progress.summary()).toMatch(/^2\/3 files, 4\.0 MiB fetched, [\d.]+ MiB\/s$/);
    expect(progress.activeLines()).toEqual([]);
  });

  it('gives a mismatch its expected and found lines', () => {
    const line = describeEvent({ type: 'mismatch', name: 'a', source: 'http://x/a', keptAt: '/s/.bad/a.bad-1', expected: 'E', found: 'F' });
    expect(line).toContain('expected: E');
    expect(line).toContain('found:    F');
  });
});
