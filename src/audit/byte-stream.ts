/**
 * A pull-based view of a byte source (a file, a tar member, a decompressor's output) that lets
 * the scanner look at the first bytes, hand the whole stream on to a nested reader, and then
 * drain whatever that reader left, without ever holding more than one chunk plus the head.
 */
export class ByteStream {
  private readonly source: AsyncIterator<Uint8Array>;
  private buffered: Buffer[] = [];
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when the source itself failed, as opposed to a reader of these bytes giving up. */
  error: Error | undefined;
  /** Bytes pulled from the source so far (whether or not anyone looked at them). */
  bytesRead = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  /** Reads may come from a nested reader and a drain at once; the source sees them one at a time. */
  private pull(): Promise<Buffer | null> {
    const next = this.queue.then(async () => {
      if (this.error) throw this.error;
      if (this.ended) return null;
      let step: IteratorResult<Uint8Array>;
      try {
        step = await this.source.next();
      } catch (error) {
        this.error = error instanceof Error ? error : new Error(String(error));
        throw this.error;
      }
      const { value, done } = step;
      if (done) {
        this.ended = true;
        return null;
      }
      const chunk = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.bytesRead += chunk.length;
      return chunk;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The next chunk, or null at the end. */
  async read(): Promise<Buffer | null> {
    const held = this.buffered.shift();
    if (held !== undefined) return held;
    return this.pull();
  }

  /** The next chunk cut to at most `max` bytes (the rest stays unread), or null at the end. */
  async readMax(max: number): Promise<Buffer | null> {
    const chunk = await this.read();
    if (chunk === null || chunk.length <= max) return chunk;
    this.buffered.unshift(chunk.subarray(max));
    return chunk.subarray(0, max);
  }

  /** Puts bytes back in front of the stream, e.g. what followed a header a reader parsed. */
  unread(bytes: Buffer): void {
    if (bytes.length > 0) this.buffered.unshift(bytes);
  }

  /** Up to `n` leading bytes (fewer only at the end of the stream); they stay unread. */
  async peek(n: number): Promise<Buffer> {
    let have = this.buffered.reduce((sum, b) => sum + b.length, 0);
    while (have < n) {
      const chunk = await this.pull();
      if (chunk === null) break;
      this.buffered.push(chunk);
      have += chunk.length;
    }
    const all = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = all.length > 0 ? [all] : [];
    return all.subarray(0, n);
  }

  /** Reads to the end, discarding; resolves with the total length of the stream. */
  async drain(): Promise<number> {
    this.buffered = [];
    while ((await this.pull()) !== null);
    return this.bytesRead;
  }

  /**
   * Everything not yet read, as an iterable for a nested reader. Abandoning the iteration
   * leaves this stream open, so the caller can still drain it.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }
}
