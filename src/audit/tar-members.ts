import { Parser, type ReadEntry } from 'tar';
import { ByteStream } from './byte-stream.js';

export interface TarMember {
  path: string;
  /** node-tar's entry type name: `File`, `Directory`, `SymbolicLink`, `Link`, ... */
  type: string;
  size: number;
  /** The member's bytes. Whatever the caller leaves unread is skipped before the next member. */
  body: ByteStream;
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

/**
 * Walks a tar stream member by member with node-tar's Parser, in order, honouring back-pressure:
 * the parser gets the next chunk only once the current member has taken what it was given, so
 * memory stays at a chunk or two however large the members are. Throws on a malformed archive.
 */
export async function* tarMembers(input: AsyncIterable<Buffer>): AsyncGenerator<TarMember> {
  const parser = new Parser({ strict: true });
  const entries: ReadEntry[] = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  let current: ReadEntry | undefined;
  const notify = () => {
    // A member being read would otherwise wait forever for bytes that will never come.
    if (failure) current?.destroy(failure);
    wake?.();
    wake = undefined;
  };
  parser.on('entry', (entry: ReadEntry) => {
    // Failures reach the reader through the member's iterator or the next step of this
    // generator; an entry destroyed while nobody awaits it must not throw from the emitter.
    entry.on('error', () => undefined);
    entries.push(entry);
    notify();
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
      const entry = entries.shift();
      if (entry !== undefined) {
        current = entry;
        const body = new ByteStream(entry as unknown as AsyncIterable<Buffer>);
        yield {
          path: entry.path,
          type: entry.type,
          size: entry.size,
          body,
        };
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
    for (const entry of entries) entry.resume();
    // A consumer that stops early leaves the feeder waiting for a drain; aborting the parser
    // wakes it, so it returns and releases the input.
    current = undefined;
    if (!fed) parser.abort(new Error('tar reading stopped early'));
  }
}
