import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Digests, HashAlgorithm } from './integrity.js';

/**
 * The hashing threads' code, as text: vitest runs the TypeScript sources and the build runs
 * the JavaScript, and an inline worker is the one form both can start. A thread keeps one hash
 * per (file, algorithm) it was given and answers every chunk with an ack, in order.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'data') {
    hashes.get(m.id).hash.update(m.data);
    parentPort.postMessage({ type: 'ack', id: m.id });
  } else if (m.type === 'start') {
    hashes.set(m.id, { algorithm: m.algorithm, hash: createHash(m.algorithm) });
  } else if (m.type === 'digest') {
    const entry = hashes.get(m.id);
    const value = entry.hash.digest('base64');
    entry.hash = createHash(entry.algorithm);
    parentPort.postMessage({ type: 'digest', id: m.id, algorithm: entry.algorithm, value });
  } else if (m.type === 'end') {
    hashes.delete(m.id);
  }
});
`;

/** Bytes handed to the threads and not yet hashed by all of them, past which `update` waits. */
const MAX_PENDING = 2 << 20;

/**
 * At most one thread per core, shared by every file being fetched: a thread is a V8 isolate of
 * about 10 MiB, and two threads already keep two cores busy with sha512.
 */
const MAX_THREADS = Math.max(1, Math.min(2, availableParallelism()));

type Reply = { type: 'ack'; id: number } | { type: 'digest'; id: number; algorithm: HashAlgorithm; value: string };

interface LaneHandler {
  onReply(reply: Reply): void;
  onFailure(error: Error): void;
}

/** One hashing thread and the lanes (one file's hash with one algorithm) it serves. */
class HashThread {
  readonly worker = new Worker(WORKER_SOURCE, { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  readonly lanes = new Map<number, LaneHandler>();
  /** Messages sent that still expect a reply: the thread keeps the process alive only then. */
  private awaited = 0;
  failure: Error | undefined;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => {
      if (--this.awaited === 0) this.worker.unref();
      this.lanes.get(reply.id)?.onReply(reply);
    });
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`a hashing thread stopped (exit code ${code})`)));
  }

  post(message: { type: string; id: number; algorithm?: HashAlgorithm; data?: Uint8Array }, expectsReply: boolean): void {
    if (this.failure) throw this.failure;
    if (expectsReply && this.awaited++ === 0) this.worker.ref();
    this.worker.postMessage(message);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    threads.splice(threads.indexOf(this), 1);
    this.worker.unref();
    for (const lane of this.lanes.values()) lane.onFailure(error);
  }
}

const threads: HashThread[] = [];
let nextLaneId = 1;

/**
 * A thread without lanes, else a new one while there are fewer than MAX_THREADS, else the one
 * serving the fewest lanes, preferring threads not in `taken` (the file's other algorithms).
 */
function leastBusyThread(taken: readonly HashThread[]): HashThread {
  const idle = threads.find((t) => t.lanes.size === 0);
  if (idle) return idle;
  if (threads.length < MAX_THREADS) {
    const thread = new HashThread();
    threads.push(thread);
    return thread;
  }
  const load = (t: HashThread) => (taken.includes(t) ? Infinity : t.lanes.size);
  return threads.reduce((a, b) => (load(b) < load(a) ? b : a));
}

interface Lane {
  id: number;
  thread: HashThread;
  /** Chunks this lane has hashed, of the `sent` so far. */
  acked: number;
}

interface PendingChunk {
  bytes: number;
  /** Lanes that have not hashed it yet. */
  waiting: number;
  onHashed: (() => void) | undefined;
}

/**
 * Digests computed on hashing threads, so that hashing a download runs beside the parsing and
 * writing on the main thread instead of after them (sha512 at 1 MiB takes ~1.3 ms per chunk:
 * on one thread it, not the network, sets the pace). Each algorithm is a lane on the least busy
 * thread, so sha512 and blake2b512 of one file run on two cores. A chunk whose memory is a
 * SharedArrayBuffer (the chunk pool's pieces) is hashed where it lies, without a copy; any other
 * chunk is copied into the message. `update` waits while more than 2 MiB are pending.
 */
export class BackgroundHash {
  private readonly lanes: Lane[];
  /** Chunks not yet hashed by every lane, oldest first; `sent` counts every chunk ever sent. */
  private readonly inFlight: PendingChunk[] = [];
  private sent = 0;
  private pending = 0;
  private waiters: Array<() => void> = [];
  private digestWaiter: { parts: Digests; missing: number; resolve: (digests: Digests) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  size = 0;
  private closed = false;

  constructor(readonly algorithms: readonly HashAlgorithm[]) {
    const lanes: Lane[] = [];
    for (const algorithm of algorithms) {
      const lane: Lane = { id: nextLaneId++, thread: leastBusyThread(lanes.map((l) => l.thread)), acked: 0 };
      lane.thread.lanes.set(lane.id, { onReply: (reply) => this.onReply(lane, reply), onFailure: (error) => this.onFailure(error) });
      lane.thread.post({ type: 'start', id: lane.id, algorithm }, false);
      lanes.push(lane);
    }
    this.lanes = lanes;
  }

  private onReply(lane: Lane, reply: Reply): void {
    if (reply.type === 'ack') {
      // Each lane acks its chunks in order; a chunk is hashed once every lane has acked it, so
      // chunks complete in order too.
      const chunk = this.inFlight[this.inFlight.length - (this.sent - lane.acked)]!;
      lane.acked += 1;
      if (--chunk.waiting > 0) return;
      this.inFlight.shift();
      this.pending -= chunk.bytes;
      chunk.onHashed?.();
      if (this.pending <= MAX_PENDING) this.wakeAll();
    } else {
      const waiter = this.digestWaiter;
      if (!waiter) return;
      waiter.parts[reply.algorithm] = reply.value;
      if (--waiter.missing === 0) {
        this.digestWaiter = undefined;
        waiter.resolve(Object.fromEntries(this.algorithms.map((a) => [a, waiter.parts[a]!])));
      }
    }
  }

  private onFailure(error: Error): void {
    this.failure ??= error;
    this.wakeAll();
    const waiter = this.digestWaiter;
    this.digestWaiter = undefined;
    waiter?.reject(error);
  }

  /**
   * Hands a chunk to every lane and waits only while too much is pending. A chunk in a
   * SharedArrayBuffer is read in place: the caller must not change it until `onHashed`.
   */
  async update(chunk: Uint8Array, onHashed?: () => void): Promise<void> {
    this.checkOpen();
    if (this.failure) throw this.failure;
    this.inFlight.push({ bytes: chunk.byteLength, waiting: this.lanes.length, onHashed });
    this.sent += 1;
    for (const lane of this.lanes) lane.thread.post({ type: 'data', id: lane.id, data: chunk }, true);
    this.pending += chunk.byteLength;
    this.size += chunk.byteLength;
    while (this.pending > MAX_PENDING && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.failure) throw this.failure;
  }

  /** Digests of everything so far (`size` bytes); the hashes then start afresh. */
  async digests(): Promise<Digests> {
    this.checkOpen();
    if (this.failure) throw this.failure;
    const result = new Promise<Digests>((resolve, reject) => (this.digestWaiter = { parts: {}, missing: this.lanes.length, resolve, reject }));
    for (const lane of this.lanes) lane.thread.post({ type: 'digest', id: lane.id }, true);
    return result;
  }

  /** Drops what was hashed so far. */
  async reset(): Promise<void> {
    await this.digests();
    this.size = 0;
  }

  /**
   * A closed hash has left its threads: a digest asked for then would wait for an answer that
   * never comes, and with nothing else pending the process would end with status 0.
   */
  private checkOpen(): void {
    if (this.closed) throw new Error('the hash of a closed partial file was used');
  }

  /** Leaves the threads (they stay for the next file); chunks still pending are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.lanes) {
      lane.thread.lanes.delete(lane.id);
      if (!lane.thread.failure) lane.thread.post({ type: 'end', id: lane.id }, false);
    }
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
