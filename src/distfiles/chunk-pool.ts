/**
 * 1 MiB buffers for body chunks, reused. A download allocates a gigabyte of chunks; fresh
 * memory costs a page fault per 4 KiB (a second of kernel time per GiB here), so chunks the
 * hashing worker has finished with come back (their memory moved back, not copied) and are
 * handed out again.
 */
const SIZE = 1 << 20;
const MAX_IDLE = 32;
const idle: ArrayBuffer[] = [];

/** A buffer of `size` bytes whose memory is its own (so it can be moved to a worker). */
export function acquireChunk(size: number): Buffer {
  const memory = size === SIZE ? idle.pop() : undefined;
  return memory ? Buffer.from(memory) : Buffer.allocUnsafeSlow(size);
}

export function releaseChunk(memory: ArrayBuffer): void {
  if (memory.byteLength === SIZE && idle.length < MAX_IDLE) idle.push(memory);
}
