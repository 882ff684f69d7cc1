import { createHash } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { basename } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

/** Who holds a distfile, as the holder tells a process that waits for it. */
export interface DistfileHolder {
  pid: number;
  command: string;
  since: string;
}

export interface DistfileLock {
  release(): Promise<void>;
}

/**
 * One writer per distfile, across processes: whoever checks, downloads or commits a distfile
 * of a store holds its lock for the whole of it, so `.partial/<name>` has one writer and the
 * digests it computed while writing are those of the bytes on disk when it renames them.
 *
 * Why an abstract Unix socket rather than a lock file: binding a name in Linux's abstract
 * socket namespace is exclusive (a second bind fails with EADDRINUSE, in this process or any
 * other), and the kernel drops the name when the socket closes, also when the holder is killed
 * with SIGKILL. There is no stale lock to recognise and no takeover, so nothing can remove a
 * live holder's lock (what makes pid lock files hard: a just-created file, a reused pid, two
 * processes taking over the same stale file). The name comes from the store directory's device
 * and inode (one store by any path, in any mount namespace) and the distfile name. A waiter
 * connects; the holder answers with who it is and keeps the connection open; the kernel closes
 * it when the holder releases or dies, and the waiter binds then.
 *
 * Scope: abstract names are per network namespace. bootstrap fetches in the orchestrator (its
 * steps unshare mount and pid namespaces, not the network); processes in other network
 * namespaces (two containers sharing a store) are not excluded from each other.
 */
export async function lockDistfile(
  storeKey: string,
  name: string,
  options: { signal?: AbortSignal; onWait?: (holder: DistfileHolder) => void } = {},
): Promise<DistfileLock> {
  const address = `\0bootstrap-distfile-${createHash('sha256').update(`${storeKey}\0${name}`).digest('hex')}`;
  const me: DistfileHolder = { pid: process.pid, command: describeCommand(), since: new Date().toISOString() };
  let lastHolder: string | undefined;
  for (;;) {
    throwIfAborted(options.signal, name);
    const server = await bind(address);
    if (server) return holding(server, me);
    const holder = await waitForHolder(address, options.signal, (h) => {
      const key = `${h.pid} ${h.since}`;
      if (key !== lastHolder) options.onWait?.(h);
      lastHolder = key;
    });
    throwIfAborted(options.signal, name);
    // Refused: the holder let go between our bind and connect; anything else is a short pause
    // so that a name bound by something that never listens cannot make this spin.
    if (holder !== 'released') await new Promise((resolve) => setTimeout(resolve, holder === 'refused' ? 5 : 50));
  }
}

/** The distfile's name bound and listening, or undefined when another socket has it. */
function bind(address: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    const onError = (error: Error): void => {
      server.close();
      if (errnoCode(error) === 'EADDRINUSE') resolve(undefined);
      else reject(error);
    };
    server.once('error', onError);
    server.listen({ path: address, exclusive: true }, () => {
      server.off('error', onError);
      server.unref();
      resolve(server);
    });
  });
}

function holding(server: Server, me: DistfileHolder): DistfileLock {
  const waiters = new Set<Socket>();
  server.on('connection', (socket) => {
    waiters.add(socket);
    socket.on('close', () => waiters.delete(socket));
    socket.on('error', () => undefined);
    socket.write(`${JSON.stringify(me)}\n`);
  });
  server.on('error', () => undefined);
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of waiters) socket.destroy();
      });
      return released;
    },
  };
}

/**
 * Connects to the holder, reports who it is and waits until the connection closes: 'released'
 * after a holder answered, 'refused' when nobody listens (any more), 'silent' when the
 * connection closed without an answer.
 */
function waitForHolder(address: string, signal: AbortSignal | undefined, onHolder: (holder: DistfileHolder) => void): Promise<'released' | 'refused' | 'silent'> {
  return new Promise((resolve) => {
    const socket = connect({ path: address });
    let text = '';
    let answered = false;
    let refused = false;
    const onAbort = (): void => {
      socket.destroy();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (answered) return;
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline === -1) return;
      answered = true;
      try {
        onHolder(JSON.parse(text.slice(0, newline)) as DistfileHolder);
      } catch {
        // Not one of ours; still wait for it to close.
      }
    });
    socket.on('error', (error) => {
      refused = ['ECONNREFUSED', 'ENOENT'].includes(errnoCode(error) ?? '');
    });
    socket.on('close', () => {
      signal?.removeEventListener('abort', onAbort);
      resolve(refused ? 'refused' : answered ? 'released' : 'silent');
    });
  });
}

function describeCommand(): string {
  const [script, ...args] = process.argv.slice(1);
  const text = [script ? basename(script) : basename(process.execPath), ...args].join(' ');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function throwIfAborted(signal: AbortSignal | undefined, name: string): void {
  if (signal?.aborted) throw new BootstrapError('EINTERRUPTED', `waiting for ${name} was interrupted`, { exitCode: 130 });
}

export function describeHolder(holder: DistfileHolder): string {
  return `pid ${holder.pid} (${holder.command}, since ${holder.since})`;
}
