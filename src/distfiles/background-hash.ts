import { Worker } from 'node:worker_threads';
import { releaseChunk } from './chunk-pool.js';
import type { Digests, HashAlgorithm } from './integrity.js';

/**
 * The worker's code, as text: vitest runs the TypeScript sources and the build runs the
 * JavaScript, and an inline worker is the one form both can start.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
let algorithms = [];
const fresh = () => algorithms.map((a) => [a, createHash(a)]);
let hashes = [];
parentPort.on('message', (message) => {
  if (message.type === 'start') {
    algorithms = message.algorithms;
    hashes = fresh();
  } else if (message.type === 'data') {
    for (const [, hash] of hashes) hash.update(message.data);
    // A chunk that was moved here goes back for reuse (see chunk-pool.ts).
    const moved = message.moved ? message.data.buffer : undefined;
    parentPort.postMessage({ type: 'ack', bytes: message.data.length, memory: moved }, moved ? [moved] : []);
  } else if (message.type === 'digest') {
    const digests = {};
    for (const [algorithm, hash] of hashes) digests[algorithm] = hash.digest('base64');
    hashes = fresh();
    parentPort.postMessage({ type: 'digests', digests });
  }
});
`;

/** Bytes handed to the worker and not yet hashed, past which `update` waits. */
const MAX_PENDING = 4 << 20;

/**
 * Workers left by finished files, reused by the next (starting a thread costs tens of
 * milliseconds, which adds up over many small distfiles). They do not keep the process alive.
 */
const idle: Worker[] = [];
const MAX_IDLE = 4;

function takeWorker(): Worker {
  const worker = idle.pop() ?? new Worker(WORKER_SOURCE, { eval: true });
  worker.unref();
  return worker;
}

/**
 * Digests computed on a worker thread, so that hashing a download runs beside the parsing
 * and writing on the main thread instead of after them (sha512 at 1 MiB takes ~2 ms per
 * chunk: on one thread it, not the network, sets the pace). Chunks are hashed in order;
 * `update` waits while more than 4 MiB are pending.
 */
export class BackgroundHash {
  private readonly worker: Worker;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private digestWaiter: { resolve: (digests: Digests) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  size = 0;
  private closed = false;

  constructor(readonly algorithms: readonly HashAlgorithm[]) {
    this.worker = takeWorker();
    this.worker.postMessage({ type: 'start', algorithms: [...algorithms] });
    this.worker.on('message', this.onMessage);
    this.worker.on('error', this.onError);
    this.worker.on('exit', this.onExit);
  }

  private readonly onExit = (code: number): void => this.onError(new Error(`the hashing worker stopped (exit code ${code})`));

  private readonly onMessage = (message: { type: string; bytes?: number; memory?: ArrayBuffer; digests?: Digests }): void => {
    if (message.type === 'ack') {
      if (message.memory) releaseChunk(message.memory);
      this.pending -= message.bytes!;
      if (this.pending <= MAX_PENDING) this.wakeAll();
    } else if (message.type === 'digests') {
      const waiter = this.digestWaiter;
      this.digestWaiter = undefined;
      waiter?.resolve(message.digests!);
    }
  };

  private readonly onError = (error: Error): void => {
    this.failure = error;
    this.wakeAll();
    const waiter = this.digestWaiter;
    this.digestWaiter = undefined;
    waiter?.reject(error);
  };

  /**
   * With `handOver`, a chunk that alone spans its ArrayBuffer is moved to the worker instead
   * of copied: the caller must not touch it again.
   */
  async update(chunk: Uint8Array, handOver = false): Promise<void> {
    this.checkOpen();
    if (this.failure) throw this.failure;
    const length = chunk.byteLength; // a moved chunk reads as empty afterwards
    const moved = handOver && chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength && chunk.buffer instanceof ArrayBuffer;
    this.worker.postMessage({ type: 'data', data: chunk, moved }, moved ? [chunk.buffer as ArrayBuffer] : []);
    this.pending += length;
    this.size += length;
    while (this.pending > MAX_PENDING && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  /** Digests of everything so far (`size` bytes); then only `reset` may follow. */
  async digests(): Promise<Digests> {
    this.checkOpen();
    return this.requestDigests();
  }

  private async requestDigests(): Promise<Digests> {
    if (this.failure) throw this.failure;
    const result = new Promise<Digests>((resolve, reject) => (this.digestWaiter = { resolve, reject }));
    this.worker.postMessage({ type: 'digest' });
    return result;
  }

  /** Drops what was hashed so far. */
  async reset(): Promise<void> {
    await this.digests();
    this.size = 0;
  }

  /**
   * A closed hash has given its worker away: a digest asked for then would wait for an answer
   * that never comes, and with nothing else pending the process would end with status 0.
   */
  private checkOpen(): void {
    if (this.closed) throw new Error('the hash of a closed partial file was used');
  }

  /** Gives the worker back for reuse once it has caught up, or ends it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.failure && this.digestWaiter === undefined && idle.length < MAX_IDLE) {
      await this.requestDigests().catch(() => undefined);
      this.worker.off('message', this.onMessage);
      this.worker.off('error', this.onError);
      this.worker.off('exit', this.onExit);
      if (!this.failure) {
        idle.push(this.worker);
        return;
      }
    }
    this.worker.off('exit', this.onExit);
    await this.worker.terminate();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
