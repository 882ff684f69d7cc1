/** The slowest a transfer may be, averaged over a window, before its source is given up on (as curl's --speed-limit and --speed-time). */
export interface MinSpeed {
  /** 0 turns the check off. */
  bytesPerSecond: number;
  windowMs: number;
}

/**
 * Watches the bytes a response delivers and calls `onTooSlow` once when fewer than
 * `bytesPerSecond` per second arrived over the last `windowMs` (a window sliding in fifths).
 * A response the fetcher paused for a slow disk is not watched: that slowness is ours.
 */
export class SpeedWatch {
  private samples: Array<[number, number]> = [];
  private total = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = false;

  constructor(
    private readonly limit: MinSpeed,
    private readonly onTooSlow: (reason: string) => void,
  ) {}

  /** From the response's headers on; again after a pause. */
  start(): void {
    if (this.done || this.timer || this.limit.bytesPerSecond <= 0 || this.limit.windowMs <= 0) return;
    this.samples = [[performance.now(), this.total]];
    this.timer = setInterval(() => this.check(), Math.max(10, this.limit.windowMs / 5));
    this.timer.unref();
  }

  received(bytes: number): void {
    this.total += bytes;
  }

  pause(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  stop(): void {
    this.done = true;
    this.pause();
  }

  private check(): void {
    const now = performance.now();
    this.samples.push([now, this.total]);
    // Keep the newest sample at least a window old as the start of the span measured.
    while (this.samples.length > 1 && this.samples[1]![0] <= now - this.limit.windowMs) this.samples.shift();
    const [since, bytesThen] = this.samples[0]!;
    if (now - since < this.limit.windowMs) return;
    const bytes = this.total - bytesThen;
    const seconds = (now - since) / 1000;
    if (bytes >= this.limit.bytesPerSecond * seconds) return;
    this.stop();
    this.onTooSlow(
      `slower than ${formatSpeed(this.limit.bytesPerSecond)} for ${formatSeconds(this.limit.windowMs)} (${bytes} bytes in the last ${seconds.toFixed(1)} s); giving up on this source`,
    );
  }
}

function formatSpeed(bytesPerSecond: number): string {
  if (bytesPerSecond < 1024) return `${bytesPerSecond} bytes/s`;
  const kib = bytesPerSecond / 1024;
  return `${Number.isInteger(kib) ? kib : kib.toFixed(1)} KiB/s`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}
