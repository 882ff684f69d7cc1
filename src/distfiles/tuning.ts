import { type ChunkWriter, writeFully } from './partial-file.js';

/** Knobs of the fetcher; the defaults suit real mirrors, tests shorten the waits. */
export interface FetchTuning {
  /** Attempts per source for transient failures (5xx, resets, stalls) before the next source. */
  attempts: number;
  /** First backoff delay; doubled on each retry, with jitter, up to 30 s. */
  backoffMs: number;
  /** No body byte for this long is a stall. */
  bodyTimeoutMs: number;
  headersTimeoutMs: number;
  maxRedirections: number;
  /** Bytes of one body allowed to wait for the disk before the request is dropped and resumed. */
  maxQueuedBytes: number;
  /**
   * A source that delivers fewer than this many bytes per second, on average over
   * `minSpeedWindowMs`, is given up on for the next one (curl's --speed-limit and --speed-time);
   * 0 turns it off. Default: 1 KiB/s over 30 s. A slow disk does not count (see SpeedWatch).
   */
  minSpeedBytesPerSecond: number;
  minSpeedWindowMs: number;
  writer: ChunkWriter;
}

export const DEFAULT_TUNING: FetchTuning = {
  attempts: 4,
  backoffMs: 1000,
  bodyTimeoutMs: 60_000,
  headersTimeoutMs: 60_000,
  maxRedirections: 10,
  maxQueuedBytes: 128 << 20,
  minSpeedBytesPerSecond: 1024,
  minSpeedWindowMs: 30_000,
  writer: writeFully,
};
