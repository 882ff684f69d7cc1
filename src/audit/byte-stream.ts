/**
 * A pull-based view of a byte source (a file, a tar member, a decompressor's output) that lets
 * the scanner look at the first bytes, hand the whole stream on to a nested reader, and then
 * drain whatever that reader left, without ever holding more than one chunk plus the head.
 */
export class ByteStream {
  private readonly next: () => Promise<Uint8Array | null>;
  /** Lets the source go (an iterator is told to return); reading afterwards finds the end. */
  readonly release: () => Promise<void>;
  private buffered: Buffer[] = [];
  private ended = false;
  private queue: Promise<unknown> = Promise.resolve();
  /** Set when the source itself failed, as opposed to a reader of these bytes giving up. */
  error: Error | undefined;
  /** Bytes pulled from the source so far (whether or not anyone looked at them). */
  bytesRead = 0;

  /**
   * From an iterable of chunks, or from a function that gives the next chunk (null at the end);
   * `skipRest`, when given, discards what the source has left and says how many bytes that was
   * (a slice tells its parent to skip, which is cheaper than pulling each chunk through it).
   */
  constructor(
    source: AsyncIterable<Uint8Array> | (() => Promise<Uint8Array | null>),
    private readonly skipRest?: () => Promise<number>,
  ) {
    if (typeof source === 'function') {
      this.next = source;
      this.release = async () => undefined;
    } else {
      const iterator = source[Symbol.asyncIterator]();
      this.next = async () => {
        const step = await iterator.next();
        return step.done ? null : step.value;
      };
      this.release = async () => {
        await iterator.return?.();
      };
    }
  }

  /** Reads may come from a nested reader and a drain at once; the source sees them one at a time. */
  private pull(): Promise<Buffer | null> {
    const next = this.queue.then(async () => {
      if (this.error) throw this.error;
      if (this.ended) return null;
      let value: Uint8Array | null;
      try {
        value = await this.next();
      } catch (error) {
        this.error = error instanceof Error ? error : new Error(String(error));
        throw this.error;
      }
      if (value === null) {
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
    const first = this.buffered[0];
    if (first !== undefined && first.length >= n) return first.subarray(0, n);
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

  /**
   * Exactly `n` bytes, as one buffer (a view of a chunk when they lie in one); throws when the
   * stream ends first, naming `what`.
   */
  async readExactly(n: number, what: string): Promise<Buffer> {
    const head = await this.peek(n);
    if (head.length < n) throw new Error(`truncated: the stream ends inside ${what} (${head.length} of ${n} bytes)`);
    await this.skip(n);
    return head;
  }

  /** Discards the next `n` bytes; returns how many there were (fewer only at the end). */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const chunk = await this.readMax(left);
      if (chunk === null) break;
      left -= chunk.length;
    }
    return n - left;
  }

  /** Reads to the end, discarding; resolves with the total length of the stream. */
  async drain(): Promise<number> {
    this.buffered = [];
    if (this.skipRest && !this.ended && !this.error) {
      const skipRest = this.skipRest;
      const skipped = this.queue.then(async () => {
        try {
          this.bytesRead += await skipRest();
        } catch (error) {
          // The source failed, as when a pull fails.
          this.error = error instanceof Error ? error : new Error(String(error));
          throw this.error;
        }
        this.ended = true;
      });
      this.queue = skipped.catch(() => undefined);
      await skipped;
      return this.bytesRead;
    }
    if (this.ended) return this.bytesRead;
    while ((await this.pull()) !== null);
    return this.bytesRead;
  }

  /** The first `n` bytes if they are already here (in the first chunk held), without waiting. */
  peekHeld(n: number): Buffer | undefined {
    const first = this.buffered[0];
    return first !== undefined && first.length >= n ? first.subarray(0, n) : undefined;
  }

  /** Discards `n` bytes if they are already here (in the first chunk held); false otherwise. */
  skipHeld(n: number): boolean {
    const first = this.buffered[0];
    if (first === undefined || first.length < n) return false;
    if (first.length === n) this.buffered.shift();
    else this.buffered[0] = first.subarray(n);
    return true;
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
