import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDistfiles } from '../../../src/distfiles/ensure.js';
import type { FetchEvent } from '../../../src/distfiles/events.js';
import { type ChunkWriter, writeFully } from '../../../src/distfiles/partial-file.js';
import { projectRoot, tempDir } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

/**
 * undici issue 5360: when a server sends a whole `Connection: close` response and closes while
 * the client's HTTP parser is paused for backpressure (a slow consumer), undici 7 throws an
 * AssertionError from a socket 'end' handler, which no try/catch can see. The first test shows
 * that this host's undici still has the bug with a plain slow consumer; the others put the
 * fetcher in the same situation, with a disk writer slower than the network.
 */
const slowWriter: ChunkWriter = async (handle, data, position) => {
  await sleep(400);
  await writeFully(handle, data, position);
};

let server: TestServer;
let dir: { path: string; remove: () => void };
// As in the reproduction: one 64 KiB body fills undici's body buffer and pauses it.
const body = randomBytes(64 << 10);

beforeEach(async () => {
  server = await startTestServer();
  server.route('/closing.tar', body, ['close-after-body']);
  dir = tempDir('distfiles-5360-');
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

describe('a server closing while the client is paused by a slow writer (undici 5360)', () => {
  /** A process that reads `path` through undici.request, not reading for a second, then slowly. */
  function slowUndiciReader(path: string) {
    const script = `
      import { request } from ${JSON.stringify(join(projectRoot, 'node_modules/undici/index.js'))};
      const res = await request(${JSON.stringify(server.url)} + ${JSON.stringify(path)});
      await new Promise((r) => setTimeout(r, 1000));
      let n = 0;
      try {
        for await (const chunk of res.body) { n += chunk.length; await new Promise((r) => setTimeout(r, 20)); }
        console.log('survived', n);
      } catch (error) { console.log('caught', error.message); }
    `;
    return execa(process.execPath, ['--input-type=module', '-e', script], { reject: false, timeout: 30_000 });
  }

  it('kills a process that reads the body through undici with backpressure', async () => {
    const child = await slowUndiciReader('/closing.tar');
    expect(child.exitCode).not.toBe(0);
    expect(child.stderr).toContain('assert(!this.paused)');
  });

  it('does not when the response keeps the connection, which is when the fetcher pauses', async () => {
    server.route('/kept.tar', body, ['fin-after-body']);
    const child = await slowUndiciReader('/kept.tar');
    expect(child.stderr).not.toContain('assert(!this.paused)');
    expect(child.exitCode).toBe(0);
    expect(child.stdout).toMatch(/^(survived|caught)/);
  });

  it('survives it in the fetcher and ends with the right file', async () => {
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'closing.tar': pinnedEntry(body, [`${server.url}/closing.tar`]) });
    const result = await ensureDistfiles({ lockPath, storeDir: join(dir.path, 'store'), names: [], tuning: { writer: slowWriter } });
    expect(readFileSync(result['closing.tar']!.path).equals(body)).toBe(true);
    expect(server.requests).toHaveLength(1);
  });

  it('bounds the memory it holds for a slow disk by dropping and resuming the request', async () => {
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'closing.tar': pinnedEntry(body, [`${server.url}/closing.tar`]) });
    const events: FetchEvent[] = [];
    const result = await ensureDistfiles({
      lockPath,
      storeDir: join(dir.path, 'store'),
      names: [],
      tuning: { writer: slowWriter, maxQueuedBytes: 16 << 10, backoffMs: 10 },
      onProgress: (e) => events.push(e),
    });
    expect(readFileSync(result['closing.tar']!.path).equals(body)).toBe(true);
    expect(server.requests.length).toBeGreaterThan(1);
    expect(server.requests.slice(1).every((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? ''))).toBe(true);
  });
});

describe('a keep-alive response paused for a slow disk', () => {
  it('turns a connection closed during the pause into a resumed download', async () => {
    const big = randomBytes(40 << 20);
    server.route('/keepalive.tar', big, ['drop:30000000', 'ok']);
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'keepalive.tar': pinnedEntry(big, [`${server.url}/keepalive.tar`]) });
    const steady: ChunkWriter = async (handle, data, position) => {
      await sleep(30);
      await writeFully(handle, data, position);
    };
    const result = await ensureDistfiles({ lockPath, storeDir: join(dir.path, 'store'), names: [], tuning: { writer: steady, backoffMs: 10 } });
    expect(readFileSync(result['keepalive.tar']!.path).equals(big)).toBe(true);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });
});

describe('a keep-alive response whose server closes after the body, during the pause', () => {
  it('ends with the right file', async () => {
    const big = randomBytes(24 << 20);
    server.route('/fin.tar', big, ['fin-after-body']);
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'fin.tar': pinnedEntry(big, [`${server.url}/fin.tar`]) });
    const steady: ChunkWriter = async (handle, data, position) => {
      await sleep(60);
      await writeFully(handle, data, position);
    };
    const result = await ensureDistfiles({ lockPath, storeDir: join(dir.path, 'store'), names: [], tuning: { writer: steady, backoffMs: 10 } });
    expect(readFileSync(result['fin.tar']!.path).equals(big)).toBe(true);
  });
});

describe('a disk slower than a server without Range support', () => {
  it('keeps the body in memory rather than starting over forever', async () => {
    const server = await startTestServer();
    const dir = tempDir('distfiles-norange-');
    try {
      const data = randomBytes(256 << 10);
      server.route('/plain.tar', data, ['no-range']);
      const lockPath = join(dir.path, 'distfiles.lock');
      await writeTestLock(lockPath, { 'plain.tar': pinnedEntry(data, [`${server.url}/plain.tar`]) });
      const result = await ensureDistfiles({
        lockPath,
        storeDir: join(dir.path, 'store'),
        names: [],
        tuning: { writer: slowWriter, maxQueuedBytes: 16 << 10 },
      });
      expect(readFileSync(result['plain.tar']!.path).equals(data)).toBe(true);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
      dir.remove();
    }
  });
});
