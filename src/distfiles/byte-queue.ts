import { acquireChunk, releaseChunk } from './chunk-pool.js';

/**
 * Carries a response body from undici's callbacks to the disk writer, which takes it in pieces
 * of `chunkBytes` (1 MiB). Each pushed chunk is copied at once into a piece from the chunk pool
 * and let go: undici's chunks are views of the socket's read buffers, and a view kept in a queue
 * keeps its whole buffer alive into V8's old generation, where only a full collection frees
 * it, which V8 starts only after some 64 MiB more of such memory (measured: 100 MiB of
 * arrayBuffers for one download when they were queued). So what this queue holds is its pieces,
 * and the socket's buffers die young.
 *
 * How the queue is kept bounded is the caller's business (see http-download.ts): undici 7 can
 * crash the process when its parser is paused at the wrong moment, so pausing is not always
 * allowed. `push` returns false once more than `limit` bytes wait.
 */
export class ByteQueue {
  /** Filled pieces, oldest first; the last one may still be filling. */
  private pieces: Buffer[] = [];
  /** Bytes in the last piece (when it is still filling). */
  private fill = 0;
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly limit: number,
    readonly chunkBytes = 1 << 20,
  ) {}

  get bytes(): number {
    return this.queued;
  }

  /** Copies the chunk in; false when the queue then holds more than its limit. */
  push(chunk: Uint8Array): boolean {
    let done = 0;
    while (done < chunk.length) {
      if (this.pieces.length === 0 || this.fill === this.chunkBytes) {
        this.pieces.push(acquireChunk(this.chunkBytes));
        this.fill = 0;
      }
      const piece = this.pieces[this.pieces.length - 1]!;
      const n = Math.min(chunk.length - done, this.chunkBytes - this.fill);
      piece.set(chunk.subarray(done, done + n), this.fill);
      this.fill += n;
      done += n;
    }
    this.queued += chunk.length;
    if (this.queued >= this.chunkBytes) this.notify();
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
   * The next full piece (`chunkBytes`), waiting for it; at the end of the body or after a
   * failure, what is left, as a buffer of that length; null at the end of the body. A piece
   * handed out is the caller's (to give back with releaseChunk once done).
   */
  async take(): Promise<Buffer | null> {
    while (this.queued < this.chunkBytes && !this.ended && !this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queued === 0) {
      if (this.failure) throw this.failure;
      return null;
    }
    const piece = this.pieces.shift()!;
    const size = Math.min(this.queued, this.chunkBytes);
    this.queued -= size;
    if (this.pieces.length === 0) this.fill = 0;
    if (size === this.chunkBytes) return piece;
    // The tail of the body: a buffer of its own length; the piece goes back to the pool.
    const tail = Buffer.from(piece.subarray(0, size));
    releaseChunk(piece);
    return tail;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
