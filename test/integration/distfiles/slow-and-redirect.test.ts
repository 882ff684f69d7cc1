import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDistfiles } from '../../../src/distfiles/ensure.js';
import type { FetchEvent } from '../../../src/distfiles/events.js';
import type { FetchTuning } from '../../../src/distfiles/tuning.js';
import { cliPath, tempDir } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

/** Issue 10, item 7: a redirect loop gets a clear message; a trickling server is given up on. */

const fast: Partial<FetchTuning> = { backoffMs: 10, bodyTimeoutMs: 5000, headersTimeoutMs: 2000 };

let server: TestServer;
let dir: { path: string; remove: () => void };
let lockPath: string;
let storeDir: string;
let events: FetchEvent[];

beforeEach(async () => {
  server = await startTestServer();
  dir = tempDir('distfiles-slow-');
  lockPath = join(dir.path, 'distfiles.lock');
  storeDir = join(dir.path, 'store');
  events = [];
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

function fetchAll(tuning: Partial<FetchTuning>) {
  return ensureDistfiles({ lockPath, storeDir, names: [], tuning: { ...fast, ...tuning }, onProgress: (e) => events.push(e) });
}

/** Sends `bytes` bytes of the body every `everyMs`, the whole announced up front (64 bytes every 2 s, shortened). */
async function startTrickleServer(body: Buffer, bytes: number, everyMs: number): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const trickle: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': body.length, 'accept-ranges': 'bytes' });
    let offset = 0;
    const timer = setInterval(() => {
      if (res.destroyed || offset >= body.length) {
        clearInterval(timer);
        return;
      }
      res.write(body.subarray(offset, offset + bytes));
      offset += bytes;
    }, everyMs);
    timers.add(timer);
  });
  trickle.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => trickle.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(trickle.address() as AddressInfo).port}`,
    async close() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => trickle.close(() => resolve()));
    },
  };
}

describe('fetcher: redirect loops and trickling servers', () => {
  it('names the URLs of a redirect loop and says what to do, instead of undici\'s text', async () => {
    const body = randomBytes(1000);
    server.route('/loop/a', Buffer.alloc(0), ['redirect:/loop/b']);
    server.route('/loop/b', Buffer.alloc(0), ['redirect:/loop/a']);
    await writeTestLock(lockPath, { 'l.tar': pinnedEntry(body, [`${server.url}/loop/a`]) });
    const error = await fetchAll({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    const found = String((error as { found: unknown }).found);
    expect(found).toContain(`a redirect loop: after 1 redirect (${server.url}/loop/a → ${server.url}/loop/b → …) it points back to a URL already visited`);
    expect(found).toContain('curl -IL');
    expect(found).not.toMatch(/Client or Pool|Use an Agent/);
    // Given up at once: a loop is no transient failure.
    expect(server.requests).toHaveLength(2);
  });

  it('says how many redirects it followed when a chain is longer than the limit', async () => {
    const body = randomBytes(1000);
    for (let i = 0; i < 8; i++) server.route(`/chain/${i}`, Buffer.alloc(0), [`redirect:/chain/${i + 1}`]);
    await writeTestLock(lockPath, { 'c.tar': pinnedEntry(body, [`${server.url}/chain/0`]) });
    const error = await fetchAll({ maxRedirections: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    const found = String((error as { found: unknown }).found);
    expect(found).toContain(`${server.url}/chain/0: still redirecting after 5 redirects (${server.url}/chain/0 → … → ${server.url}/chain/4 → ${server.url}/chain/5 → /chain/6)`);
    expect(found).toContain('curl -IL');
    expect(found).not.toMatch(/usable Location/);
    expect(server.requests).toHaveLength(6);
  });

  it('gives up on a URL slower than the minimum speed over the window and takes the next one', async () => {
    const body = randomBytes(64 * 1024);
    const trickle = await startTrickleServer(body, 64, 50);
    try {
      server.route('/good/t.tar', body);
      await writeTestLock(lockPath, { 't.tar': pinnedEntry(body, [`${trickle.url}/t.tar`, `${server.url}/good/t.tar`]) });
      const started = Date.now();
      const result = await fetchAll({ minSpeedBytesPerSecond: 4096, minSpeedWindowMs: 800 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(readFileSync(result['t.tar']!.path).equals(body)).toBe(true);
      const next = events.find((e) => e.type === 'next-source');
      expect(next).toMatchObject({ source: `${trickle.url}/t.tar` });
      if (next?.type !== 'next-source') throw new Error('unreachable');
      expect(next.reason).toMatch(/slower than 4 KiB\/s for 0\.8 s/);
      expect(next.reason).toMatch(/\(\d+ bytes in the last \d+\.\d s\); giving up on this source/);
      // Resumed from where the slow server left off.
      expect(server.requests[0]!.range).toMatch(/^bytes=\d+-$/);
    } finally {
      await trickle.close();
    }
  });

  it('keeps a download that is slow but above the minimum speed', async () => {
    const body = randomBytes(16 * 1024);
    const trickle = await startTrickleServer(body, 1024, 50);
    try {
      await writeTestLock(lockPath, { 'k.tar': pinnedEntry(body, [`${trickle.url}/k.tar`]) });
      const result = await fetchAll({ minSpeedBytesPerSecond: 4096, minSpeedWindowMs: 300 });
      expect(readFileSync(result['k.tar']!.path).equals(body)).toBe(true);
      expect(events.some((e) => e.type === 'next-source' || e.type === 'retry')).toBe(false);
    } finally {
      await trickle.close();
    }
  });

  it('bootstrap fetch takes the minimum speed from --speed-limit and --speed-time, and prints why it moved on', async () => {
    const body = randomBytes(32 * 1024);
    const trickle = await startTrickleServer(body, 64, 50);
    try {
      server.route('/good/f.tar', body);
      await writeTestLock(lockPath, { 'f.tar': pinnedEntry(body, [`${trickle.url}/f.tar`, `${server.url}/good/f.tar`]) });
      const result = await execa(process.execPath, [cliPath, 'fetch', '--lock', lockPath, '--dest', storeDir, '--speed-limit', '2048', '--speed-time', '0.5'], {
        reject: false,
        env: { NO_COLOR: '1', CI: 'true' },
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain(`next f.tar: ${trickle.url}/f.tar failed (slower than 2 KiB/s for 0.5 s`);
      expect(result.stdout).toMatch(/^ok f\.tar /m);
      expect(readFileSync(join(storeDir, 'f.tar')).equals(body)).toBe(true);
      const refused = await execa(process.execPath, [cliPath, 'fetch', '--lock', lockPath, '--dest', storeDir, '--speed-time', '0'], { reject: false });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain('--speed-time 0');
    } finally {
      await trickle.close();
    }
  });
});
