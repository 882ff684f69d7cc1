import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Digests, HashAlgorithm } from './integrity.js';

/**
 * The hashing threads' code, as text: vitest runs the TypeScript sources and the build runs
 * the JavaScript, and an inline worker is the one form both can start. A lane is one file
 * hashed with one algorithm; the thread reads the file itself, up to where the writer says it
 * has written, and answers each `extend`, `digest` and `reset` with exactly one reply (`start`
 * and `end` have none).
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { closeSync, openSync, readSync } = require('node:fs');
const buffer = Buffer.allocUnsafe(1 << 20);
const lanes = new Map();
parentPort.on('message', (m) => {
  const lane = lanes.get(m.id);
  if (m.type === 'start') {
    try {
      lanes.set(m.id, { path: m.path, algorithm: m.algorithm, hash: createHash(m.algorithm), fd: openSync(m.path, 'r'), position: 0 });
    } catch (error) {
      lanes.set(m.id, { error });
    }
    return;
  }
  if (m.type === 'end') {
    if (lane && lane.fd !== undefined) closeSync(lane.fd);
    lanes.delete(m.id);
    return;
  }
  try {
    if (lane.error) throw lane.error;
    if (m.type === 'extend') {
      while (lane.position < m.end) {
        const n = readSync(lane.fd, buffer, 0, Math.min(buffer.length, m.end - lane.position), lane.position);
        if (n === 0) throw new Error(lane.path + ' ends at byte ' + lane.position + ', before the ' + m.end + ' bytes written to it');
        lane.hash.update(buffer.subarray(0, n));
        lane.position += n;
      }
      parentPort.postMessage({ type: 'ack', id: m.id, end: m.end });
    } else if (m.type === 'digest') {
      const value = lane.hash.copy().digest('base64');
      parentPort.postMessage({ type: 'digest', id: m.id, algorithm: lane.algorithm, value });
    } else if (m.type === 'reset') {
      lane.hash = createHash(lane.algorithm);
      lane.position = 0;
      parentPort.postMessage({ type: 'reset', id: m.id });
    }
  } catch (error) {
    if (lane) lane.error = error;
    parentPort.postMessage({ type: 'error', id: m.id, message: error.message, code: error.code });
  }
});
`;

/**
 * Bytes written and not yet hashed by every lane, past which `extend` waits. They wait in the
 * page cache, not in this process, so the bound is only how far hashing may lag behind.
 */
const MAX_PENDING = 8 << 20;

/**
 * Threads shared by every file being fetched: one core fewer than the machine has, at least one
 * and at most two. The main thread receives and writes on the core left over; a thread is a V8
 * isolate of about 10 MiB; and two hash sha512 at some 1.6 GB/s, more than downloads deliver.
 * On two cores one thread is the faster: 8 files of 64 MiB from nginx on loopback, 4 at a time,
 * took 1.050 s against two threads' 1.076 s, 1.128 against 1.216 times curl + sha512sum
 * (`npm run bench -- fetch`, docs/performance.md).
 */
const MAX_THREADS = Math.max(1, Math.min(2, availableParallelism() - 1));

type Reply =
  | { type: 'ack'; id: number; end: number }
  | { type: 'digest'; id: number; algorithm: HashAlgorithm; value: string }
  | { type: 'reset'; id: number }
  | { type: 'error'; id: number; message: string; code?: string };

interface LaneHandler {
  onReply(reply: Reply): void;
  onFailure(error: Error): void;
}

/** One hashing thread and the lanes it serves. */
class HashThread {
  // The thread allocates little (messages and hash objects): a small young generation suffices.
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

  post(message: { type: 'start'; id: number; path: string; algorithm: HashAlgorithm } | { type: 'extend'; id: number; end: number } | { type: 'digest' | 'reset' | 'end'; id: number }): void {
    if (this.failure) throw this.failure;
    if (message.type !== 'start' && message.type !== 'end' && this.awaited++ === 0) this.worker.ref();
    this.worker.postMessage(message);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    const index = threads.indexOf(this);
    if (index >= 0) threads.splice(index, 1);
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
  /** Bytes this lane has hashed. */
  hashed: number;
}

/**
 * The digests of a file being written, computed on hashing threads from the file itself: the
 * writer says how far it has written (`extend`), and a thread reads those bytes back (from the
 * page cache) and hashes them while the next ones are written. So hashing runs beside the
 * network and the disk instead of after them, no byte is copied to another thread, and the
 * digests are of the bytes the file holds. Each algorithm is a lane on the least busy thread,
 * so sha512 and blake2b512 of one file run on two cores.
 */
export class BackgroundHash {
  private readonly lanes: Lane[] = [];
  private waiters: Array<() => void> = [];
  /** A `digest` or `reset` asked of every lane, until each has answered. */
  private barrier: { parts: Digests; missing: number; resolve: (digests: Digests) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  /** Bytes of the file handed to the lanes so far. */
  size = 0;
  private closed = false;

  /** `path` must exist: the threads open it at once. */
  constructor(
    readonly path: string,
    readonly algorithms: readonly HashAlgorithm[],
  ) {
    for (const algorithm of algorithms) {
      const lane: Lane = { id: nextLaneId++, thread: leastBusyThread(this.lanes.map((l) => l.thread)), hashed: 0 };
      lane.thread.lanes.set(lane.id, { onReply: (reply) => this.onReply(lane, reply), onFailure: (error) => this.onFailure(error) });
      lane.thread.post({ type: 'start', id: lane.id, path, algorithm });
      this.lanes.push(lane);
    }
  }

  private get pending(): number {
    return this.size - Math.min(...this.lanes.map((l) => l.hashed));
  }

  private onReply(lane: Lane, reply: Reply): void {
    if (reply.type === 'ack') {
      lane.hashed = reply.end;
      if (this.pending <= MAX_PENDING) this.wakeAll();
    } else if (reply.type === 'digest' || reply.type === 'reset') {
      const barrier = this.barrier;
      if (!barrier) return;
      if (reply.type === 'digest') barrier.parts[reply.algorithm] = reply.value;
      if (--barrier.missing === 0) {
        this.barrier = undefined;
        barrier.resolve(barrier.parts);
      }
    } else {
      this.onFailure(Object.assign(new Error(`hashing ${this.path}: ${reply.message}`), { code: reply.code }));
    }
  }

  private onFailure(error: Error): void {
    this.failure ??= error;
    this.wakeAll();
    const barrier = this.barrier;
    this.barrier = undefined;
    barrier?.reject(this.failure);
  }

  /**
   * The file now holds `size` bytes (written, not only queued): the lanes hash up to there.
   * Waits only while they lag more than MAX_PENDING behind.
   */
  async extend(size: number): Promise<void> {
    this.checkOpen();
    if (this.failure) throw this.failure;
    while (this.size < size) {
      // In steps of MAX_PENDING: a long file already on disk (a resumed download) must not hold
      // a thread that other downloads share for the whole of one message.
      this.size = Math.min(size, this.size + MAX_PENDING);
      for (const lane of this.lanes) lane.thread.post({ type: 'extend', id: lane.id, end: this.size });
      while (this.pending > MAX_PENDING && !this.failure) await new Promise<void>((resolve) => this.waiters.push(resolve));
      if (this.failure) throw this.failure;
    }
  }

  /** Digests of the first `size` bytes, once every lane has read them. */
  async digests(): Promise<Digests> {
    const parts = await this.askEveryLane('digest');
    return Object.fromEntries(this.algorithms.map((a) => [a, parts[a]!]));
  }

  /**
   * Starts afresh from byte 0, once every lane has read what it was given: the caller may then
   * shorten the file without a lane reading past its end.
   */
  async reset(): Promise<void> {
    await this.askEveryLane('reset');
    for (const lane of this.lanes) lane.hashed = 0;
    this.size = 0;
  }

  private askEveryLane(type: 'digest' | 'reset'): Promise<Digests> {
    this.checkOpen();
    if (this.failure) return Promise.reject(this.failure);
    const answers = new Promise<Digests>((resolve, reject) => (this.barrier = { parts: {}, missing: this.lanes.length, resolve, reject }));
    for (const lane of this.lanes) lane.thread.post({ type, id: lane.id });
    return answers;
  }

  /**
   * A closed hash has left its threads: a digest asked for then would wait for an answer that
   * never comes, and with nothing else pending the process would end with status 0.
   */
  private checkOpen(): void {
    if (this.closed) throw new Error('the hash of a closed partial file was used');
  }

  /** Leaves the threads (they stay for the next file), which close their copies of the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const lane of this.lanes) {
      lane.thread.lanes.delete(lane.id);
      if (!lane.thread.failure) lane.thread.post({ type: 'end', id: lane.id });
    }
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
