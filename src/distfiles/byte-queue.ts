/**
 * Carries a response body from undici's callbacks to the disk writer, which takes it in batches
 * of at least `batchBytes` (1 MiB) and writes each with one writev: 64 KiB writes halve the
 * throughput. The chunks are undici's own (views of the socket's read buffers), kept only until
 * written, never copied: nothing else reads them, since the hashing threads read the bytes back
 * from the file (background-hash.ts).
 *
 * How the queue is kept bounded is the caller's business (see http-download.ts): undici 7 can
 * crash the process when its parser is paused at the wrong moment, so pausing is not always
 * allowed. `push` returns false once more than `limit` bytes wait.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    readonly limit: number,
    readonly batchBytes = 1 << 20,
  ) {}

  get bytes(): number {
    return this.queued;
  }

  /** Queues the chunk (not a copy: it must not change until taken and written); false when the queue then holds more than its limit. */
  push(chunk: Buffer): boolean {
    this.chunks.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= this.batchBytes) this.notify();
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
   * The oldest chunks, at least `batchBytes` of them, waiting for that many; at the end of the
   * body or after a failure, what is left; null at the end of the body.
   */
  async take(): Promise<Buffer[] | null> {
    while (this.queued < this.batchBytes && !this.ended && !this.failure) {
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    if (this.queued === 0) {
      if (this.failure) throw this.failure;
      return null;
    }
    let count = 0;
    let size = 0;
    while (count < this.chunks.length && size < this.batchBytes) size += this.chunks[count++]!.length;
    this.queued -= size;
    return this.chunks.splice(0, count);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
