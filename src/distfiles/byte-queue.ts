/**
 * Carries a response body from undici's callbacks to the disk writer. undici 7 crashes the
 * process (an AssertionError thrown from a socket 'end' handler, undici issue 5360) when a
 * connection closes while its HTTP parser is paused for backpressure; the fetcher therefore
 * never pauses undici. Bodies land here instead, and the writer takes them in 1 MiB pieces.
 * The queue is bounded by its owner: past `limit` bytes, `push` returns false and the owner
 * aborts the request and resumes it later with a Range request, rather than pausing.
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
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
   * Up to `max` bytes as one buffer, waiting until `max` bytes are there or the body ended or
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
    while (size < max && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const room = max - size;
      if (head.length <= room) {
        parts.push(head);
        size += head.length;
        this.chunks.shift();
      } else {
        parts.push(head.subarray(0, room));
        this.chunks[0] = head.subarray(room);
        size += room;
      }
    }
    this.queued -= size;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
