import { setFlagsFromString } from 'node:v8';
import pLimit from 'p-limit';
import Agent from 'undici/lib/dispatcher/agent.js';
import redirect from 'undici/lib/interceptor/redirect.js';
import { BootstrapError, isBootstrapError } from '../util/errors.js';
import { describeHolder } from './distfile-lock.js';
import type { FetchEventHandler } from './events.js';
import { type FetchOneContext, fetchOne } from './fetch-one.js';
import { type Lock, type LockEntry, hasDigests, isPinned } from './lock-schema.js';
import { readLock } from './read-lock.js';
import { checkSignature } from './signature.js';
import { checkMirrors } from './sources.js';
import { DistfileStore, type StoredFile } from './store.js';
import { DEFAULT_TUNING, type FetchTuning } from './tuning.js';
import { updateLock } from './write-lock.js';

export interface EnsureOptions {
  lockPath: string;
  storeDir: string;
  /** Entry names; every entry of the lock when empty. */
  names: string[];
  /** Tried before each entry's URLs: http(s) URLs (as MIRROR/<name>) or directories. */
  mirrors?: string[];
  /** Downloads at once (default 4). */
  jobs?: number;
  /** Trust on first use: fetch unpinned entries and write their size and digests into the lock. */
  pin?: boolean;
  onProgress?: FetchEventHandler;
  signal?: AbortSignal;
  tuning?: Partial<FetchTuning>;
}

export type EnsuredFiles = Record<string, { path: string; integrity: string; size: number }>;

/**
 * Makes sure every named distfile is in the store and matches the lock, fetching what is
 * missing, in parallel. Unpinned entries are refused unless `pin` is set; then their size and
 * digests are written into the lock (atomically, one update at a time).
 */
export async function ensureDistfiles(options: EnsureOptions): Promise<EnsuredFiles> {
  const lock = await readLock(options.lockPath);
  const names = options.names.length > 0 ? [...new Set(options.names)] : Object.keys(lock.distfiles).sort();
  const entries = selectEntries(lock, names, options.lockPath, options.pin ?? false);
  const session = await openFetchSession(options);
  // A failure that is not the network's (a full disk) stops the other downloads too.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const limit = pLimit(Math.max(1, options.jobs ?? 4));
  const results: EnsuredFiles = {};
  const failures: Array<{ name: string; error: unknown }> = [];
  try {
    await Promise.all(
      entries.map(([name, entry]) =>
        limit(async () => {
          if (signal.aborted) return;
          try {
            results[name] = await ensureOne(name, entry, { ...session.context, signal }, options, lock);
          } catch (error) {
            failures.push({ name, error });
            if (!(isBootstrapError(error) && error.code === 'EFETCH')) stop.abort();
          }
        }),
      ),
    );
  } finally {
    await session.close();
  }
  if (options.signal?.aborted) {
    const signal = String(options.signal.reason ?? 'SIGINT');
    throw new BootstrapError('EINTERRUPTED', `fetching distfiles was interrupted by ${signal}`, { exitCode: signal === 'SIGTERM' ? 143 : 130 });
  }
  if (failures.length === 1) throw failures[0]!.error;
  if (failures.length > 1) {
    const primary = failures.find((f) => !(isBootstrapError(f.error) && f.error.code === 'EINTERRUPTED')) ?? failures[0]!;
    if (isBootstrapError(primary.error) && primary.error.code !== 'EFETCH') throw primary.error;
    throw new BootstrapError('EFETCH', `${failures.length} distfiles could not be fetched:\n  ${failures.map((f) => messageOf(f.error)).join('\n  ')}`, {
      hint: 'Check the URLs in the lock, or give a --mirror that has the files.',
      exitCode: 1,
    });
  }
  return Object.fromEntries(names.map((n) => [n, results[n]!]));
}

async function ensureOne(
  name: string,
  entry: LockEntry,
  ctx: FetchOneContext,
  options: EnsureOptions,
  lock: Lock,
): Promise<StoredFile> {
  // A signature entry without digests yet is checked against its key, itself a pinned entry.
  const signature = !hasDigests(entry) ? entry.signature : undefined;
  const keyFile = signature ? await ensureOne(signature.key, lock.distfiles[signature.key]!, ctx, options, lock) : undefined;
  const accept = signature && keyFile ? async (path: string) => checkSignature(path, signature, keyFile.path, ctx.dispatcher, await ctx.store.workDirFor(name, 'signature')) : undefined;
  return withDistfileLock(name, ctx, async (waitedFor) => {
    const onMismatch = (keptAt: string, expected: string, found: string) =>
      ctx.onEvent({ type: 'mismatch', name, source: ctx.store.pathOf(name), keptAt, expected, found });
    let present = await ctx.store.check(name, entry, onMismatch);
    const refused = present && accept ? await accept(present.path) : undefined;
    if (present && refused) {
      onMismatch(await ctx.store.setAside(name, present.path), `a file signed by ${signature!.fingerprint}`, refused);
      present = undefined;
    }
    if (present) ctx.onEvent({ type: 'verified', name, size: present.size, ...(waitedFor ? { afterWaitingFor: waitedFor } : {}) });
    const fetched = present ? undefined : await fetchOne(name, entry, ctx, accept);
    const file = present ?? fetched!;
    const source = fetched?.source ?? `the file already in ${ctx.store.dir}`;
    if (signature) {
      const date = new Date().toISOString().slice(0, 10);
      await recordDigests(options.lockPath, name, file, `verified with gpgv against its OpenPGP signature by key ${signature.fingerprint} (${source}, ${date})`);
      ctx.onEvent({ type: 'pinned', name, size: file.size, integrity: file.integrity });
    } else if (!isPinned(entry)) {
      await recordDigests(options.lockPath, name, file, `pinned on first use from ${source} on ${new Date().toISOString().slice(0, 10)}`);
      ctx.onEvent({ type: 'pinned', name, size: file.size, integrity: file.integrity });
    }
    return { path: file.path, size: file.size, integrity: file.integrity };
  });
}

/**
 * Runs `work` holding the distfile's lock, after saying whom it waits for when another process
 * holds it; `work` learns whom it waited for (the last holder), if anyone.
 */
export async function withDistfileLock<T>(name: string, ctx: FetchOneContext, work: (waitedFor: string | undefined) => Promise<T>): Promise<T> {
  let waitedFor: string | undefined;
  const lock = await ctx.store.lock(name, {
    signal: ctx.signal,
    onWait: (holder) => {
      waitedFor = describeHolder(holder);
      ctx.onEvent({ type: 'waiting', name, holder: waitedFor, store: ctx.store.dir });
    },
  });
  try {
    return await work(waitedFor);
  } finally {
    await lock.release();
  }
}

async function recordDigests(lockPath: string, name: string, file: StoredFile, from: string): Promise<void> {
  await updateLock(lockPath, (lock) => {
    const entry = lock.distfiles[name];
    if (!entry) throw new BootstrapError('ELOCKCHANGED', `${lockPath}: entry ${name} disappeared while it was being fetched`);
    entry.size = file.size;
    entry.integrity = file.integrity;
    entry.from = from;
  });
}

export interface FetchSession {
  context: FetchOneContext;
  close(): Promise<void>;
}

/** The store, the undici agent (with redirects) and the checked mirrors, for fetchOne. */
export async function openFetchSession(options: {
  storeDir: string;
  mirrors?: string[];
  tuning?: Partial<FetchTuning>;
  onProgress?: FetchEventHandler;
  signal?: AbortSignal;
}): Promise<FetchSession> {
  const mirrors = await checkMirrors(options.mirrors ?? []);
  const tuning: FetchTuning = { ...DEFAULT_TUNING, ...options.tuning };
  const store = new DistfileStore(options.storeDir);
  await store.init();
  // undici parses HTTP with llhttp compiled to WebAssembly, which V8 compiles twice by default:
  // at once with its baseline compiler (Liftoff), then optimised on other threads. The second
  // compile costs 35 MiB at the peak (one request: 99 MiB of RSS with it, 64 without) and a tenth
  // of a second of CPU, and buys nothing here: a download spends its time in the body, which
  // llhttp hands on in whole spans. Process-wide, but undici's parser is the only WebAssembly
  // bootstrap runs; it is compiled at the first request, after this.
  setFlagsFromString('--liftoff-only');
  const agent = new Agent({ headersTimeout: tuning.headersTimeoutMs, bodyTimeout: tuning.bodyTimeoutMs, connections: 8 });
  const dispatcher = agent.compose(redirect({ maxRedirections: tuning.maxRedirections }));
  return {
    context: { store, dispatcher, mirrors, tuning, onEvent: options.onProgress ?? (() => undefined), signal: options.signal },
    close: () => agent.close().catch(() => undefined),
  };
}

function selectEntries(lock: Lock, names: string[], lockPath: string, pin: boolean): Array<[string, LockEntry]> {
  const unknown = names.filter((n) => !(n in lock.distfiles));
  if (unknown.length > 0) {
    throw new BootstrapError('EUNKNOWNDISTFILE', `${lockPath} has no entry named ${unknown.map((n) => `"${n}"`).join(', ')}`, {
      hint: 'Add it with `bootstrap lock add URL --name NAME`, or check the spelling.',
    });
  }
  const entries = names.map((n): [string, LockEntry] => [n, lock.distfiles[n]!]);
  const unpinned = entries.filter(([, e]) => !isPinned(e)).map(([n]) => n);
  if (unpinned.length > 0 && !pin) {
    throw new BootstrapError('EUNPINNED', `${lockPath}: ${unpinned.join(', ')} ${unpinned.length === 1 ? 'is' : 'are'} not pinned (integrity null)`, {
      hint: 'Pin from a trusted source (`bootstrap lock import-manifest`), or fetch once with --pin to trust what the server sends and record it.',
    });
  }
  return entries;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
