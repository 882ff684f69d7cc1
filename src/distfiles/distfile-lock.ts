import { createHash } from 'node:crypto';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { basename } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { holdsListeningSocket } from './socket-owner.js';

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
 *
 * Any local user can bind an abstract name. So a store's names include its secret key
 * (store-key.ts), which only who can read the store knows, and a waiter believes a holder only
 * when the kernel confirms it: the process it names runs as this user and has the listening
 * socket open. A name held by anything else (a squatter that never answers, lies, or binds
 * without listening) ends the wait with ELOCKSQUATTED naming it, instead of a wait forever.
 */
export async function lockDistfile(
  storeKey: string,
  name: string,
  options: { signal?: AbortSignal; onWait?: (holder: DistfileHolder) => void } = {},
): Promise<DistfileLock> {
  const address = `\0bootstrap-distfile-${createHash('sha256').update(`${storeKey}\0${name}`).digest('hex')}`;
  const me: DistfileHolder = { pid: process.pid, command: describeCommand(), since: new Date().toISOString() };
  let lastHolder: string | undefined;
  // Since when every attempt failed without a genuine holder (refused, silent or not ours).
  let unexplainedSince: number | undefined;
  for (;;) {
    throwIfAborted(options.signal, name);
    const server = await bind(address);
    if (server) return holding(server, me);
    let genuine = false;
    const holder = await waitForHolder(address, options.signal, (h) => {
      genuine = holdsListeningSocket(h.pid, address);
      if (!genuine) return false;
      const key = `${h.pid} ${h.since}`;
      if (key !== lastHolder) options.onWait?.(h);
      lastHolder = key;
      return true;
    });
    throwIfAborted(options.signal, name);
    if (genuine) {
      unexplainedSince = undefined;
      continue;
    }
    unexplainedSince ??= Date.now();
    if (Date.now() - unexplainedSince >= SQUAT_GRACE_MS) throw squatted(name, address);
    // Refused: the holder let go between our bind and connect; anything else is a short pause
    // so that a name bound by something that never listens cannot make this spin.
    await new Promise((resolve) => setTimeout(resolve, holder === 'refused' ? 5 : 50));
  }
}

// How long a bound name may go unexplained (a holder between bind and listen, or between its
// release and our connect, explains itself within milliseconds).
const SQUAT_GRACE_MS = 5000;

function squatted(name: string, address: string): BootstrapError {
  const socketName = `@${address.slice(1)}`;
  return new BootstrapError('ELOCKSQUATTED', `the lock of ${name} (abstract socket ${socketName}) is held by a process that is not a bootstrap of this user, so waiting for it could last forever`, {
    hint: `Find the holder with \`ss -xlp | grep ${address.slice(1, 40)}\` and stop it, then run the command again.`,
  });
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
function waitForHolder(address: string, signal: AbortSignal | undefined, onHolder: (holder: DistfileHolder) => boolean): Promise<'released' | 'refused' | 'silent'> {
  return new Promise((resolve) => {
    const socket = connect({ path: address });
    let text = '';
    let answered = false;
    let refused = false;
    const onAbort = (): void => {
      socket.destroy();
    };
    // A genuine holder answers at once; one that says nothing (or is not believed) is left.
    const silence = setTimeout(() => socket.destroy(), SQUAT_GRACE_MS);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      if (answered) return;
      text += chunk;
      const newline = text.indexOf('\n');
      if (newline === -1) {
        if (text.length > 4096) socket.destroy();
        return;
      }
      let believed = false;
      try {
        believed = onHolder(JSON.parse(text.slice(0, newline)) as DistfileHolder);
      } catch {
        // Not JSON: not one of ours.
      }
      if (believed) {
        answered = true;
        clearTimeout(silence);
      } else {
        socket.destroy();
      }
    });
    socket.on('error', (error) => {
      refused = ['ECONNREFUSED', 'ENOENT'].includes(errnoCode(error) ?? '');
    });
    socket.on('close', () => {
      clearTimeout(silence);
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
