import { acquireChunk } from './chunk-pool.js';

/**
 * Carries a response body from undici's callbacks to the disk writer, which takes it in 1 MiB
 * pieces. How the queue is kept bounded is the caller's business (see http-download.ts): undici
 * 7 can crash the process when its parser is paused at the wrong moment, so pausing is not
 * always allowed. `push` returns false once more than `limit` bytes wait.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Index of the first chunk not handed out yet; the array is compacted now and then. */
  private head = 0;
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(readonly limit: number) {}

  get bytes(): number {
    return this.queued;
  }

  /** False when the queue holds more than its limit. */
  push(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    this.notify();
    return this.queued <= this.limit;
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** Data already queued is still handed out; the error is thrown after it. */
  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  /**
   * Up to `max` bytes as one new buffer, waiting until `max` bytes are there or the body ended or
   * failed; null at the end of the body.
   */
  async take(max: number): Promise<Buffer | null> {
    while (this.queued < max && !this.ended && !this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queued === 0) {
      if (this.failure) throw this.failure;
      return null;
    }
    const parts: Buffer[] = [];
    let size = 0;
    while (size < max && this.head < this.chunks.length) {
      const first = this.chunks[this.head]!;
      const room = max - size;
      if (first.length <= room) {
        parts.push(first);
        size += first.length;
        this.head += 1;
      } else {
        parts.push(first.subarray(0, room));
        this.chunks[this.head] = first.subarray(room);
        size += room;
      }
    }
    if (this.head > 1024 || this.head === this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    this.queued -= size;
    // Always a buffer of its own: the writer hands it over to the hashing worker, and undici's
    // own buffers must never be moved from under it.
    const out = acquireChunk(size);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
