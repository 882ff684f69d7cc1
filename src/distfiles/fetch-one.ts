import { open, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { AttemptFailure, classifyError } from './errors.js';
import type { FetchEventHandler } from './events.js';
import { CHUNK_BYTES } from './hash.js';
import { type ResumeState, downloadHttp } from './http-download.js';
import { type Digests, type HashAlgorithm, PIN_ALGORITHMS, algorithmsOf, formatIntegrity, mismatchedAlgorithms } from './integrity.js';
import { fetchGitSnapshot } from './git-snapshot.js';
import { type LockEntry, hasDigests } from './lock-schema.js';
import { PartialFile } from './partial-file.js';
import { type Source, describeSource, sourcesFor } from './sources.js';
import { type DistfileStore, type StoredFile, describe } from './store.js';
import type { FetchTuning } from './tuning.js';

export interface FetchOneContext {
  store: DistfileStore;
  dispatcher: Dispatcher;
  mirrors: readonly string[];
  tuning: FetchTuning;
  onEvent: FetchEventHandler;
  signal?: AbortSignal;
}

export interface FetchedFile extends StoredFile {
  source: string;
}

/** A further check of a download whose digests the lock does not have yet (a signature): why it is refused, or undefined. */
export type AcceptCheck = (path: string) => Promise<string | undefined>;

/**
 * Brings one lock entry into the store: mirrors then URLs, each retried with backoff for
 * transient failures, resumed with Range, and verified (size, then every digest of the entry)
 * before the rename to the final name. An entry with digests keeps its partial bytes across
 * runs and sources because the digests will judge them (also with sha256 alone and no size);
 * one without (fetched with --pin, or checked by `accept`, a signature) starts over on each
 * source so what gets recorded is one server's answer. An entry pinned by a git commit is
 * fetched with git (git-snapshot.ts).
 */
export async function fetchOne(name: string, entry: LockEntry, ctx: FetchOneContext, accept?: AcceptCheck): Promise<FetchedFile> {
  if (entry.git !== undefined) {
    const git = entry.git;
    ctx.onEvent({ type: 'start', name, source: entry.urls[0]!, size: null, offset: 0 });
    const stored = await fetchGitSnapshot(name, { ...entry, git }, ctx.store, {
      lowSpeedBytesPerSecond: ctx.tuning.minSpeedBytesPerSecond,
      lowSpeedSeconds: Math.max(1, Math.round(ctx.tuning.minSpeedWindowMs / 1000)),
      signal: ctx.signal,
    }).catch((error: unknown) => {
      throwIfAborted(ctx.signal, name);
      throw error;
    });
    ctx.onEvent({ type: 'done', name, size: stored.size, integrity: stored.integrity, source: stored.source });
    return stored;
  }
  const pinned = hasDigests(entry);
  const algorithms: readonly HashAlgorithm[] = pinned ? algorithmsOf(entry.integrity) : PIN_ALGORITHMS;
  const expectedText = describe(entry.size, entry.integrity ?? undefined);
  const failures: string[] = [];
  let file = await PartialFile.open(ctx.store.partialPathOf(name), algorithms, { resume: pinned, writer: ctx.tuning.writer });
  try {
    for (const source of sourcesFor(name, entry.urls, ctx.mirrors)) {
      const where = describeSource(source);
      if (!pinned && file.size > 0) await file.restart();
      // Bytes not fetched from this source in this run: if the digests fail, they may be the
      // culprit, so the source gets one more try from the first byte before being blamed.
      let inherited = file.size > 0;
      const resumeState: ResumeState = {};
      let attempt = 0;
      for (;;) {
        throwIfAborted(ctx.signal, name);
        attempt += 1;
        const sizeAtAttempt = file.size;
        try {
          ctx.onEvent({ type: 'start', name, source: where, size: entry.size, offset: file.size });
          if (entry.size === null || file.size < entry.size) {
            await transfer(source, file, entry, resumeState, pinned, ctx, name);
          }
          // These digests are of the bytes on disk: the caller holds the distfile's lock
          // (withDistfileLock), so this process is the partial file's only writer.
          const digests = await file.finish();
          const problem = verdict(file.size, digests, entry) ?? (accept ? await accept(file.path) : undefined);
          if (problem === undefined) {
            const stored = await ctx.store.commit(name, file.path, digests);
            ctx.onEvent({ type: 'done', name, size: stored.size, integrity: stored.integrity, source: where });
            return { ...stored, source: where };
          }
          const found = describe(file.size, formatIntegrity(digests));
          await file.close();
          const reopen = (resume: boolean) => PartialFile.open(ctx.store.partialPathOf(name), algorithms, { resume, writer: ctx.tuning.writer });
          const keptAt = await ctx.store.setAside(name, file.path).catch(async (error: unknown) => {
            // Not moved aside: reopened as it is (an open file for whoever cleans up), never
            // truncated, so the bad bytes stay as evidence under the partial name.
            file = await reopen(true);
            throw error;
          });
          file = await reopen(false);
          ctx.onEvent({ type: 'mismatch', name, source: where, keptAt, expected: expectedText, found: `${problem}: ${found}` });
          failures.push(`${where}: ${problem} (kept at ${keptAt})`);
          if (inherited) {
            inherited = false;
            continue;
          }
          break;
        } catch (error) {
          const failure = classifyError(error);
          if (failure.action === 'local') throw localError(name, ctx, failure, error);
          if (failure.action === 'resume') {
            // Only a resume that made no progress counts against the source.
            if (file.size > sizeAtAttempt) attempt -= 1;
            continue;
          }
          if (failure.action === 'retry' && attempt < ctx.tuning.attempts) {
            const delayMs = backoff(ctx.tuning.backoffMs, attempt);
            ctx.onEvent({ type: 'retry', name, source: where, attempt, reason: failure.message, delayMs });
            await sleep(delayMs, undefined, { signal: ctx.signal }).catch(() => throwIfAborted(ctx.signal, name));
            continue;
          }
          failures.push(`${where}: ${failure.message}${failure.action === 'retry' ? ` (after ${attempt} attempts)` : ''}`);
          ctx.onEvent({ type: 'next-source', name, source: where, reason: failure.message });
          break;
        }
      }
    }
  } finally {
    await file.close().catch(() => undefined);
    // An empty partial file is nothing to resume: leave none behind.
    if (file.size === 0) await unlink(file.path).catch(() => undefined);
  }
  throw new BootstrapError('EFETCH', `${name}: no source gave the file the lock describes`, {
    expected: expectedText,
    found: failures.length > 0 ? `\n    ${failures.join('\n    ')}` : 'no sources',
    hint: 'Check the URLs in the lock, or give a --mirror that has the file.',
    exitCode: 1,
  });
}

/** Size first (cheap, and what Portage checks first), then every digest of the entry. */
function verdict(size: number, digests: Digests, entry: LockEntry): string | undefined {
  if (entry.size !== null && size !== entry.size) return `size ${size}, expected ${entry.size}`;
  if (size === 0) return 'empty file';
  if (hasDigests(entry)) {
    const wrong = mismatchedAlgorithms(entry.integrity, digests);
    if (wrong.length > 0) return `${wrong.join(' and ')} digest differs`;
  }
  return undefined;
}

async function transfer(
  source: Source,
  file: PartialFile,
  entry: LockEntry,
  resumeState: ResumeState,
  pinned: boolean,
  ctx: FetchOneContext,
  name: string,
): Promise<void> {
  const onBytes = (bytes: number): void => ctx.onEvent({ type: 'bytes', name, bytes, size: entry.size });
  if (source.kind === 'dir') {
    await copyFromDirectory(source.path, file, entry.size, onBytes);
    return;
  }
  await downloadHttp({
    dispatcher: ctx.dispatcher,
    url: source.url,
    file,
    expectedSize: entry.size,
    resumeState,
    resumeBlind: pinned,
    maxQueuedBytes: ctx.tuning.maxQueuedBytes,
    maxRedirections: ctx.tuning.maxRedirections,
    minSpeed: { bytesPerSecond: ctx.tuning.minSpeedBytesPerSecond, windowMs: ctx.tuning.minSpeedWindowMs },
    signal: ctx.signal,
    onBytes,
  });
}

/** A local mirror: the same 1 MiB hashing copy as a download, from byte 0. */
async function copyFromDirectory(path: string, file: PartialFile, expectedSize: number | null, onBytes: (n: number) => void): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') throw new AttemptFailure('next', 'not in this mirror directory');
    throw new AttemptFailure('next', `cannot read: ${(error as Error).message}`);
  }
  try {
    const info = await handle.stat();
    if (expectedSize !== null && info.size !== expectedSize) {
      throw new AttemptFailure('next', `the mirror's copy has ${info.size} bytes; the lock records ${expectedSize}`);
    }
    await file.restart();
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, file.size);
      if (bytesRead === 0) break;
      await file.append([buffer.subarray(0, bytesRead)]);
      onBytes(file.size);
    }
  } finally {
    await handle.close();
  }
}

function backoff(baseMs: number, attempt: number): number {
  const delay = Math.min(baseMs * 2 ** (attempt - 1), 30_000);
  return Math.round(delay * (0.75 + Math.random() * 0.5));
}

function throwIfAborted(signal: AbortSignal | undefined, name: string): void {
  if (signal?.aborted) throw new BootstrapError('EINTERRUPTED', `fetching ${name} was interrupted`, { exitCode: 130 });
}

function localError(name: string, ctx: FetchOneContext, failure: AttemptFailure, error: unknown): BootstrapError {
  throwIfAborted(ctx.signal, name);
  const cause = (failure.cause ?? error) as { code?: string };
  if (cause.code === 'ENOSPC' || cause.code === 'EDQUOT') {
    return new BootstrapError('ENOSPC', `${name}: the disk holding ${ctx.store.dir} is full`, {
      hint: `Free space there (or fetch into another --dest) and run again: the partial download in ${ctx.store.partialPathOf(name)} is resumed, and nothing unverified was put under ${name}.`,
      exitCode: 1,
      cause: error,
    });
  }
  return new BootstrapError('EWRITE', `${name}: cannot write into ${ctx.store.dir}: ${failure.message}`, { exitCode: 1, cause: error });
}
