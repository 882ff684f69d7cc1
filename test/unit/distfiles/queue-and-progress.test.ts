import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../src/distfiles/byte-queue.js';
import { FetchProgress, describeEvent } from '../../../src/distfiles/progress.js';

describe('ByteQueue', () => {
  const text = (chunks: Buffer[] | null) => (chunks === null ? null : Buffer.concat(chunks).toString());

  it('hands out the oldest chunks in batches of at least the batch size, then the rest at the end', async () => {
    const queue = new ByteQueue(10, 8);
    expect(queue.push(Buffer.from('abcdef'))).toBe(true);
    expect(queue.push(Buffer.from('ghijkl'))).toBe(false);
    expect(queue.push(Buffer.from('mn'))).toBe(false);
    expect(text(await queue.take())).toBe('abcdefghijkl');
    expect(queue.bytes).toBe(2);
    const pending = queue.take();
    queue.end();
    expect(text(await pending)).toBe('mn');
    expect(await queue.take()).toBeNull();
  });

  it('waits for a whole batch before handing one out', async () => {
    const queue = new ByteQueue(100, 4);
    queue.push(Buffer.from('ab'));
    let taken: Buffer[] | null | undefined;
    void queue.take().then((b) => (taken = b));
    await new Promise((r) => setTimeout(r, 10));
    expect(taken).toBeUndefined();
    queue.push(Buffer.from('cd'));
    queue.push(Buffer.from('ef'));
    await new Promise((r) => setTimeout(r, 0));
    expect(text(taken!)).toBe('abcd');
    expect(queue.bytes).toBe(2);
  });

  it('gives queued data before the error that ended the body', async () => {
    const queue = new ByteQueue(100);
    queue.push(Buffer.from('xyz'));
    queue.fail(new Error('reset'));
    expect(text(await queue.take())).toBe('xyz');
    await expect(queue.take()).rejects.toThrow('reset');
  });

  it('keeps the chunks themselves, not copies (they go to one writev)', async () => {
    const queue = new ByteQueue(100, 4);
    const chunks = [Buffer.from('ab'), Buffer.from('cd')];
    for (const c of chunks) queue.push(c);
    const taken = (await queue.take())!;
    expect(taken).toHaveLength(2);
    expect(taken[0]).toBe(chunks[0]);
    expect(taken[1]).toBe(chunks[1]);
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
