import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../src/distfiles/byte-queue.js';
import { FetchProgress, describeEvent } from '../../../src/distfiles/progress.js';

describe('ByteQueue', () => {
  it('hands out up to max bytes in order, then the rest at the end', async () => {
    const queue = new ByteQueue(10);
    expect(queue.push(Buffer.from('abcdef'))).toBe(true);
    expect(queue.push(Buffer.from('ghijkl'))).toBe(false);
    expect(String(await queue.take(8))).toBe('abcdefgh');
    const pending = queue.take(8);
    queue.end();
    expect(String(await pending)).toBe('ijkl');
    expect(await queue.take(8)).toBeNull();
  });

  it('gives queued data before the error that ended the body', async () => {
    const queue = new ByteQueue(100);
    queue.push(Buffer.from('xyz'));
    queue.fail(new Error('reset'));
    expect(String(await queue.take(1 << 20))).toBe('xyz');
    await expect(queue.take(1 << 20)).rejects.toThrow('reset');
  });

  it('returns a buffer of its own, not one of the pushed chunks', async () => {
    const queue = new ByteQueue(100);
    const chunk = Buffer.from('only');
    queue.push(chunk);
    queue.end();
    const taken = await queue.take(100);
    chunk.write('XXXX');
    expect(String(taken)).toBe('only');
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
