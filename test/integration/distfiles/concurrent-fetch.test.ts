import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliPath, tempDir } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { waitFor } from '../../helpers/cli.js';

/**
 * Issue 10, item 1: several `bootstrap fetch` processes over one store. The server sends its
 * bodies slowly, so the processes overlap, and sends wrong bytes (of the right size) to some
 * requests, so a process that trusts bytes another one wrote would commit them.
 */

interface Route {
  good: Buffer;
  bad: Buffer;
  /** Which requests (0-based, in arrival order) get the wrong bytes. */
  wrong: (index: number) => boolean;
  chunk: number;
  delayMs: number;
  /** The first request's body stops after this many bytes (that client is killed meanwhile). */
  stallFirstAfter?: number;
  requests: Array<{ range: string | undefined }>;
}

interface SlowServer {
  url: string;
  route(path: string, route: Omit<Route, 'requests'>): Route;
  close(): Promise<void>;
}

async function startSlowServer(): Promise<SlowServer> {
  const routes = new Map<string, Route>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const route = routes.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const index = route.requests.length;
    route.requests.push({ range: req.headers.range });
    const body = route.wrong(index) ? route.bad : route.good;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const headers: Record<string, string | number> = { 'content-length': body.length - start, 'accept-ranges': 'bytes' };
    if (start > 0) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start > 0 ? 206 : 200, headers);
    let offset = start;
    const next = (): void => {
      if (res.destroyed) return;
      if (index === 0 && route.stallFirstAfter !== undefined && offset >= route.stallFirstAfter) return;
      const piece = body.subarray(offset, offset + route.chunk);
      offset += piece.length;
      if (offset >= body.length) {
        res.end(piece);
        return;
      }
      res.write(piece);
      const timer = setTimeout(() => {
        timers.delete(timer);
        next();
      }, route.delayMs);
      timers.add(timer);
    };
    next();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    route(path, spec) {
      const route: Route = { ...spec, requests: [] };
      routes.set(path, route);
      return route;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sha512 = (data: Buffer): string => createHash('sha512').update(data).digest('hex');

let server: SlowServer;
let dir: { path: string; remove: () => void };

beforeEach(async () => {
  server = await startSlowServer();
  dir = tempDir('distfiles-concurrent-');
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

function fetchProcess(lockPath: string, store: string) {
  return execa(process.execPath, [cliPath, 'fetch', '--lock', lockPath, '--dest', store, '--jobs', '2'], {
    reject: false,
    env: { NO_COLOR: '1', CI: 'true' },
  });
}

describe('several fetch processes over one store', () => {
  it('one writer per distfile: whoever says verified has the right bytes, waiters say whom they wait for, nothing is left in .partial', async () => {
    const store = join(dir.path, 'store');
    const PROCESSES = 6;
    const ROUNDS = 4;
    const waitLines: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // `flaky` sends wrong bytes to every third request; `steady` always the right ones.
      const flakyGood = randomBytes(192 * 1024);
      const flakyBad = Buffer.from(flakyGood);
      flakyBad[flakyBad.length - 1] ^= 0xff;
      const steadyGood = randomBytes(256 * 1024);
      const flaky = server.route(`/${round}/flaky.tar`, { good: flakyGood, bad: flakyBad, wrong: (i) => i % 3 === 0, chunk: 16 * 1024, delayMs: 15 });
      const steady = server.route(`/${round}/steady.tar`, { good: steadyGood, bad: steadyGood, wrong: () => false, chunk: 16 * 1024, delayMs: 15 });
      const names = { flaky: `flaky-${round}.tar`, steady: `steady-${round}.tar` };
      const good = { [names.flaky]: flakyGood, [names.steady]: steadyGood };
      const lockPath = join(dir.path, `round-${round}.lock`);
      await writeTestLock(lockPath, {
        [names.flaky]: pinnedEntry(flakyGood, [`${server.url}/${round}/flaky.tar`]),
        [names.steady]: pinnedEntry(steadyGood, [`${server.url}/${round}/steady.tar`]),
      });

      const children = Array.from({ length: PROCESSES }, () => fetchProcess(lockPath, store));
      const pids = children.map((c) => c.pid);
      const results = await Promise.all(children);

      for (const [i, result] of results.entries()) {
        const what = `round ${round}, process ${i} (exit ${result.exitCode}):\n${result.stdout}\n${result.stderr}`;
        expect([0, 1], what).toContain(result.exitCode);
        if (result.exitCode === 0) {
          expect(result.stdout, what).toContain('2 distfiles verified in');
          for (const name of Object.values(names)) expect(result.stdout, what).toMatch(new RegExp(`^ok ${name.replace('.', '\\.')} `, 'm'));
        } else {
          expect(result.stderr.trim(), what).not.toBe('');
        }
        for (const name of Object.values(names)) {
          if (new RegExp(`^ok ${name.replace('.', '\\.')} `, 'm').test(result.stdout)) {
            expect(sha512(readFileSync(join(store, name))), `${what}\n${name} is not what the lock says`).toBe(sha512(good[name]!));
          }
        }
        for (const line of result.stdout.split('\n')) if (line.startsWith('wait ')) waitLines.push(line);
        for (const line of result.stdout.split('\n').filter((l) => l.startsWith('wait '))) {
          const other = /pid (\d+)/.exec(line);
          expect(other, line).not.toBeNull();
          expect(pids.filter((p) => p !== pids[i]), line).toContain(Number(other![1]));
        }
      }
      // Whatever is under a final name matches the lock, said so or not.
      for (const name of Object.values(names)) {
        if (existsSync(join(store, name))) expect(sha512(readFileSync(join(store, name))), name).toBe(sha512(good[name]!));
      }
      // The steady file was downloaded once: the others waited and then verified it.
      expect(steady.requests.length, `round ${round}: GETs of the steady file`).toBe(1);
      expect(results.filter((r) => r.exitCode === 0).length + results.filter((r) => r.exitCode === 1).length).toBe(PROCESSES);
      expect(flaky.requests.length).toBeGreaterThan(0);
      expect(readdirSync(join(store, '.partial')), `round ${round}: stray partials`).toEqual([]);
    }
    expect(waitLines.length).toBeGreaterThan(0);
  });

  it('a fetch killed with SIGKILL releases its distfile: the waiting one takes over and resumes with Range', async () => {
    const store = join(dir.path, 'store');
    // The writer writes in 1 MiB pieces; the first download stops sending after 1.5 MiB, so
    // however slowly the processes start, it is still the holder when the second one comes.
    const body = randomBytes(4 << 20);
    const route = server.route('/slow.tar', { good: body, bad: body, wrong: () => false, chunk: 64 * 1024, delayMs: 10, stallFirstAfter: 3 << 19 });
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'slow.tar': pinnedEntry(body, [`${server.url}/slow.tar`]) });

    const first = fetchProcess(lockPath, store);
    const partial = join(store, '.partial', 'slow.tar');
    await waitFor(() => existsSync(partial) && statSync(partial).size >= 1 << 20, 20_000, 'the first download to write 1 MiB');
    const second = fetchProcess(lockPath, store);
    let seen = '';
    second.stdout?.on('data', (d: Buffer) => (seen += String(d)));
    await waitFor(() => seen.includes('wait slow.tar'), 20_000, 'the second process to say it waits');
    expect(seen).toContain(`pid ${first.pid}`);
    first.kill('SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const result = await second;
    expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^ok slow\.tar /m);
    expect(readFileSync(join(store, 'slow.tar')).equals(body)).toBe(true);
    expect(route.requests).toHaveLength(2);
    expect(route.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(readdirSync(join(store, '.partial'))).toEqual([]);
  });
});
