import { Parser } from 'tar/parse';
import type { ReadEntry } from 'tar/read-entry';
import { ByteStream } from './byte-stream.js';

export interface TarMember {
  path: string;
  /** node-tar's entry type name: `File`, `Directory`, `SymbolicLink`, `Link`, ... */
  type: string;
  size: number;
  /** The member's bytes. Whatever the caller leaves unread is skipped before the next member. */
  body: ByteStream;
}

/** A member as the reader first sees it: its first bytes (all of them when it is shorter). */
export interface TarHead {
  path: string;
  type: string;
  size: number;
  head: Buffer;
}

export interface TarMembersOptions {
  /**
   * For readers that look at the first bytes of most members and no further: each member's first
   * `bytes` are collected as node-tar parses them and shown to `wantsRest`, in archive order and
   * only once the reader is done with every member before it. Where it returns false, node-tar
   * drops the rest of the body unread (its `ignore`: the bytes never pass through an entry
   * stream) and the member is not yielded; where true, the member is yielded with its whole body.
   */
  head?: { bytes: number; wantsRest: (member: TarHead) => boolean };
}

/** An entry whose head is in, waiting for the reader; `rest` once wantsRest has answered. */
interface Pending {
  entry: ReadEntry;
  chunks: Buffer[];
  rest?: boolean;
}

/** Resolves when the parser wants more input, or will never want any (ended or failed). */
function drained(parser: Parser): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      parser.off('drain', done);
      parser.off('end', done);
      parser.off('error', done);
      resolve();
    };
    parser.on('drain', done);
    parser.on('end', done);
    parser.on('error', done);
  });
}

/** The entry's bytes from the start: the chunks already taken from it, then what it still holds. */
function bodyOf(entry: ReadEntry, chunks: Buffer[]): ByteStream {
  const rest = entry as unknown as AsyncIterable<Buffer>;
  if (chunks.length === 0) return new ByteStream(rest);
  return new ByteStream(
    (async function* () {
      yield* chunks;
      yield* rest;
    })(),
  );
}

/**
 * Walks a tar stream member by member with node-tar's Parser, in order, honouring back-pressure:
 * the parser gets the next chunk only once the current member has taken what it was given, so
 * memory stays at a chunk or two however large the members are. Throws on a malformed archive.
 */
export async function* tarMembers(input: AsyncIterable<Buffer>, options: TarMembersOptions = {}): AsyncGenerator<TarMember> {
  const parser = new Parser({ strict: true });
  const pending: Pending[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  /** The member whose body the reader holds, from its yield until it is drained. */
  let current: ReadEntry | undefined;
  const notify = () => {
    // A member being read would otherwise wait forever for bytes that will never come.
    if (failure) current?.destroy(failure);
    wake?.();
    wake = undefined;
  };
  /** Asks the reader about a member; a false answer lets node-tar skip the rest of its body. */
  const look = (item: Pending): boolean => {
    const { entry, chunks } = item;
    const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    item.rest = options.head!.wantsRest({ path: entry.path, type: entry.type, size: entry.size, head: head.subarray(0, options.head!.bytes) });
    if (!item.rest) {
      entry.ignore = true;
      // Whatever it buffered while paused is flushed to no one; then it ends.
      entry.resume();
    }
    return item.rest;
  };
  parser.on('entry', (entry: ReadEntry) => {
    // Failures reach the reader through the member's iterator or the next step of this
    // generator; an entry destroyed while nobody awaits it must not throw from the emitter.
    entry.on('error', () => undefined);
    const item: Pending = { entry, chunks: [] };
    if (!options.head) {
      pending.push(item);
      notify();
      return;
    }
    let have = 0;
    let looked = false;
    const headIn = () => {
      if (looked) return;
      looked = true;
      entry.off('data', onData);
      entry.off('end', headIn);
      if (failure) return;
      // Answered here, synchronously, unless the reader is still busy with earlier members.
      if (pending.length === 0 && current === undefined) {
        try {
          if (!look(item)) return;
        } catch (error) {
          failure ??= error as Error;
          notify();
          return;
        }
      }
      entry.pause();
      pending.push(item);
      notify();
    };
    const onData = (chunk: Buffer) => {
      item.chunks.push(chunk);
      have += chunk.length;
      if (have >= options.head!.bytes) headIn();
    };
    // A 'data' listener sets the entry flowing: what it holds already arrives right away.
    entry.on('end', headIn);
    entry.on('data', onData);
  });
  parser.on('error', (error: Error) => {
    failure ??= error;
    notify();
  });
  parser.on('warn', (_code: string, message: string | Error) => {
    failure ??= message instanceof Error ? message : new Error(String(message));
    notify();
  });
  parser.on('end', () => {
    ended = true;
    notify();
  });

  let stopped = false;
  let fed = false;
  const feed = (async () => {
    for await (const chunk of input) {
      if (stopped || failure) return;
      if (!parser.write(chunk)) await drained(parser);
    }
    if (!stopped && !failure) parser.end();
  })()
    .catch((error: Error) => {
      failure ??= error;
      notify();
    })
    .finally(() => (fed = true));

  try {
    for (;;) {
      const item = pending.shift();
      if (item !== undefined) {
        if (item.rest === undefined && options.head && !look(item)) continue;
        current = item.entry;
        const body = bodyOf(item.entry, item.chunks);
        yield { path: item.entry.path, type: item.entry.type, size: item.entry.size, body };
        await body.drain();
        current = undefined;
        continue;
      }
      if (failure) throw failure;
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    await feed;
    if (failure) throw failure;
  } finally {
    stopped = true;
    for (const { entry } of pending) entry.resume();
    // A consumer that stops early leaves the feeder waiting for a drain; aborting the parser
    // wakes it, so it returns and releases the input.
    current = undefined;
    if (!fed) parser.abort(new Error('tar reading stopped early'));
  }
}
