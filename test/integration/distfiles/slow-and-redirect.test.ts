import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import type { FetchTuning } from '../../../src/distfiles/tuning.js';
import { cliPath } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { useFetchFixture } from '../../helpers/fetch-fixture.js';

/** Issue 10, item 7: a redirect loop gets a clear message; a trickling server is given up on. */

const fast: Partial<FetchTuning> = { backoffMs: 10, bodyTimeoutMs: 5000, headersTimeoutMs: 2000 };

const f = useFetchFixture('distfiles-slow-');

function fetchAll(tuning: Partial<FetchTuning>) {
  return f.ensure({ names: [], tuning: { ...fast, ...tuning } });
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
    f.server.route('/loop/a', Buffer.alloc(0), ['redirect:/loop/b']);
    f.server.route('/loop/b', Buffer.alloc(0), ['redirect:/loop/a']);
    await writeTestLock(f.lockPath, { 'l.tar': pinnedEntry(body, [`${f.server.url}/loop/a`]) });
    const error = await fetchAll({}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    const found = String((error as { found: unknown }).found);
    expect(found).toContain(`a redirect loop: after 1 redirect (${f.server.url}/loop/a → ${f.server.url}/loop/b → …) it points back to a URL already visited`);
    expect(found).toContain('curl -IL');
    expect(found).not.toMatch(/Client or Pool|Use an Agent/);
    // Given up at once: a loop is no transient failure.
    expect(f.server.requests).toHaveLength(2);
  });

  it('says how many redirects it followed when a chain is longer than the limit', async () => {
    const body = randomBytes(1000);
    for (let i = 0; i < 8; i++) f.server.route(`/chain/${i}`, Buffer.alloc(0), [`redirect:/chain/${i + 1}`]);
    await writeTestLock(f.lockPath, { 'c.tar': pinnedEntry(body, [`${f.server.url}/chain/0`]) });
    const error = await fetchAll({ maxRedirections: 5 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    const found = String((error as { found: unknown }).found);
    expect(found).toContain(`${f.server.url}/chain/0: still redirecting after 5 redirects (${f.server.url}/chain/0 → … → ${f.server.url}/chain/4 → ${f.server.url}/chain/5 → /chain/6)`);
    expect(found).toContain('curl -IL');
    expect(found).not.toMatch(/usable Location/);
    expect(f.server.requests).toHaveLength(6);
  });

  it('gives up on a URL slower than the minimum speed over the window and takes the next one', async () => {
    const body = randomBytes(64 * 1024);
    const trickle = await startTrickleServer(body, 64, 50);
    try {
      f.server.route('/good/t.tar', body);
      await writeTestLock(f.lockPath, { 't.tar': pinnedEntry(body, [`${trickle.url}/t.tar`, `${f.server.url}/good/t.tar`]) });
      const started = Date.now();
      const result = await fetchAll({ minSpeedBytesPerSecond: 4096, minSpeedWindowMs: 800 });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(readFileSync(result['t.tar']!.path).equals(body)).toBe(true);
      const next = f.events.find((e) => e.type === 'next-source');
      expect(next).toMatchObject({ source: `${trickle.url}/t.tar` });
      if (next?.type !== 'next-source') throw new Error('unreachable');
      expect(next.reason).toMatch(/slower than 4 KiB\/s for 0\.8 s/);
      expect(next.reason).toMatch(/\(\d+ bytes in the last \d+\.\d s\); giving up on this source/);
      // Resumed from where the slow server left off.
      expect(f.server.requests[0]!.range).toMatch(/^bytes=\d+-$/);
    } finally {
      await trickle.close();
    }
  });

  it('keeps a download that is slow but above the minimum speed', async () => {
    const body = randomBytes(16 * 1024);
    const trickle = await startTrickleServer(body, 1024, 50);
    try {
      await writeTestLock(f.lockPath, { 'k.tar': pinnedEntry(body, [`${trickle.url}/k.tar`]) });
      const result = await fetchAll({ minSpeedBytesPerSecond: 4096, minSpeedWindowMs: 300 });
      expect(readFileSync(result['k.tar']!.path).equals(body)).toBe(true);
      expect(f.events.some((e) => e.type === 'next-source' || e.type === 'retry')).toBe(false);
    } finally {
      await trickle.close();
    }
  });

  it('bootstrap fetch takes the minimum speed from --speed-limit and --speed-time, and prints why it moved on', async () => {
    const body = randomBytes(32 * 1024);
    const trickle = await startTrickleServer(body, 64, 50);
    try {
      f.server.route('/good/f.tar', body);
      await writeTestLock(f.lockPath, { 'f.tar': pinnedEntry(body, [`${trickle.url}/f.tar`, `${f.server.url}/good/f.tar`]) });
      const result = await execa(process.execPath, [cliPath, 'fetch', '--lock', f.lockPath, '--dest', f.storeDir, '--speed-limit', '2048', '--speed-time', '0.5'], {
        reject: false,
        env: { NO_COLOR: '1', CI: 'true' },
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(result.stdout).toContain(`next f.tar: ${trickle.url}/f.tar failed (slower than 2 KiB/s for 0.5 s`);
      expect(result.stdout).toMatch(/^ok f\.tar /m);
      expect(readFileSync(join(f.storeDir, 'f.tar')).equals(body)).toBe(true);
      const refused = await execa(process.execPath, [cliPath, 'fetch', '--lock', f.lockPath, '--dest', f.storeDir, '--speed-time', '0'], { reject: false });
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain('--speed-time 0');
    } finally {
      await trickle.close();
    }
  });
});
