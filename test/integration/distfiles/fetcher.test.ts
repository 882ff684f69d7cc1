import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync, mkdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLock } from '../../../src/distfiles/read-lock.js';
import type { FetchTuning } from '../../../src/distfiles/tuning.js';
import { needsRoot, needsTool } from '../../helpers/env.js';
import { pinnedEntry, sriOf, writeTestLock } from '../../helpers/distfiles-lock.js';
import { useFetchFixture } from '../../helpers/fetch-fixture.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

const fast: Partial<FetchTuning> = { backoffMs: 10, bodyTimeoutMs: 400, headersTimeoutMs: 2000 };

const f = useFetchFixture('distfiles-fetch-');

function fetchAll(names: string[], extra: Partial<Parameters<typeof f.ensure>[0]> = {}) {
  return f.ensure({ names, tuning: fast, ...extra });
}

async function serveOne(name: string, size: number, behaviours: Parameters<TestServer['route']>[2]): Promise<Buffer> {
  const body = randomBytes(size);
  f.server.route(`/${name}`, body, behaviours);
  await writeTestLock(f.lockPath, { [name]: pinnedEntry(body, [`${f.server.url}/${name}`]) });
  return body;
}

describe('fetcher against a misbehaving server', () => {
  it('retries a 500 and then gets the file', async () => {
    const body = await serveOne('a.tar.gz', 300_000, ['status:500', 'ok']);
    const result = await fetchAll(['a.tar.gz']);
    expect(readFileSync(result['a.tar.gz']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.behaviour)).toEqual(['status:500', 'ok']);
    expect(f.events.some((e) => e.type === 'retry' && e.reason.includes('500'))).toBe(true);
  });

  it('times out a stalled body and resumes it with Range', async () => {
    const body = await serveOne('stall.tar', 3_000_000, ['stall:1500000', 'ok']);
    const result = await fetchAll(['stall.tar']);
    expect(readFileSync(result['stall.tar']!.path).equals(body)).toBe(true);
    expect(f.events.some((e) => e.type === 'retry' && /stall/.test(e.reason))).toBe(true);
    const second = f.server.requests[1]!;
    expect(second.range).toMatch(/^bytes=[1-9]\d*-$/);
    expect(second.ifRange).toBeDefined();
  });

  it('resumes a connection dropped mid-body', async () => {
    const body = await serveOne('drop.tar', 2_500_000, ['drop:1200000', 'ok']);
    const result = await fetchAll(['drop.tar']);
    expect(readFileSync(result['drop.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('starts over cleanly when the server ignores Range', async () => {
    const body = await serveOne('norange.tar', 2_500_000, ['drop:1200000', 'no-range']);
    const result = await fetchAll(['norange.tar']);
    expect(readFileSync(result['norange.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests[1]!.range).toBeDefined();
    expect(f.server.requests[1]!.behaviour).toBe('no-range');
  });

  it('keeps wrong bytes aside and takes the right ones from the next URL', async () => {
    const good = randomBytes(200_000);
    const bad = Buffer.from(good);
    bad[1000] ^= 0xff;
    f.server.route('/bad/x.tar', bad);
    f.server.route('/good/x.tar', good);
    await writeTestLock(f.lockPath, { 'x.tar': pinnedEntry(good, [`${f.server.url}/bad/x.tar`, `${f.server.url}/good/x.tar`]) });
    const result = await fetchAll(['x.tar']);
    expect(readFileSync(result['x.tar']!.path).equals(good)).toBe(true);
    const mismatch = f.events.find((e) => e.type === 'mismatch');
    expect(mismatch).toMatchObject({ type: 'mismatch', source: `${f.server.url}/bad/x.tar` });
    if (mismatch?.type !== 'mismatch') throw new Error('unreachable');
    expect(mismatch.expected).toContain(sriOf(good).split(' ')[0]);
    expect(mismatch.found).toContain(sriOf(bad).split(' ')[0]);
    const kept = readdirSync(join(f.storeDir, '.bad'));
    expect(kept).toHaveLength(1);
    expect(kept[0]).toMatch(/^x\.tar\.bad-/);
    expect(readFileSync(join(f.storeDir, '.bad', kept[0]!)).equals(bad)).toBe(true);
  });

  it('keeps the wrong bytes under the partial name when they cannot be moved aside', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'chattr', 'e2fsprogs');
    const good = randomBytes(200_000);
    const bad = Buffer.from(good);
    bad[7] ^= 0xff;
    f.server.route('/bad/y.tar', bad);
    await writeTestLock(f.lockPath, { 'y.tar': pinnedEntry(good, [`${f.server.url}/bad/y.tar`]) });
    // An immutable set-aside folder: even root cannot rename into it.
    const aside = join(f.storeDir, '.bad');
    mkdirSync(aside, { recursive: true });
    if (spawnSync('chattr', ['+i', aside]).status !== 0) ctx.skip('chattr +i does not work on this filesystem');
    try {
      const failure = await fetchAll(['y.tar']).then(() => undefined, (error: unknown) => error);
      expect(String(failure)).toMatch(/EPERM|operation not permitted/i);
      expect(readFileSync(join(f.storeDir, '.partial', 'y.tar')).equals(bad)).toBe(true);
      expect(existsSync(join(f.storeDir, 'y.tar'))).toBe(false);
    } finally {
      spawnSync('chattr', ['-i', aside]);
    }
  });

  it('follows a redirect chain', async () => {
    const body = randomBytes(100_000);
    f.server.route('/r1', Buffer.alloc(0), ['redirect:/r2']);
    f.server.route('/r2', Buffer.alloc(0), [`redirect:${'/r3'}`]);
    f.server.route('/r3', Buffer.alloc(0), ['redirect:/files/r.tar']);
    f.server.route('/files/r.tar', body);
    await writeTestLock(f.lockPath, { 'r.tar': pinnedEntry(body, [`${f.server.url}/r1`]) });
    const result = await fetchAll(['r.tar']);
    expect(readFileSync(result['r.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.path)).toEqual(['/r1', '/r2', '/r3', '/files/r.tar']);
  });

  it('moves on from a 404 at once, without retrying it', async () => {
    const body = randomBytes(50_000);
    f.server.route('/second/n.tar', body);
    await writeTestLock(f.lockPath, { 'n.tar': pinnedEntry(body, [`${f.server.url}/first/n.tar`, `${f.server.url}/second/n.tar`]) });
    const result = await fetchAll(['n.tar']);
    expect(readFileSync(result['n.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.path)).toEqual(['/first/n.tar', '/second/n.tar']);
    expect(f.events.some((e) => e.type === 'retry')).toBe(false);
  });

  it('rejects a size announced by Content-Length before downloading the body', async () => {
    const body = randomBytes(80_000);
    f.server.route('/short/s.tar', body.subarray(0, 1000));
    f.server.route('/right/s.tar', body);
    await writeTestLock(f.lockPath, { 's.tar': pinnedEntry(body, [`${f.server.url}/short/s.tar`, `${f.server.url}/right/s.tar`]) });
    await fetchAll(['s.tar']);
    const next = f.events.find((e) => e.type === 'next-source');
    expect(next).toMatchObject({ reason: expect.stringContaining('announces 1000 bytes') });
    expect(existsSync(join(f.storeDir, '.bad'))).toBe(true);
    expect(readdirSync(join(f.storeDir, '.bad'))).toHaveLength(0);
  });

  it('reports expected and found when no source has the right bytes, and leaves no final file', async () => {
    const good = randomBytes(10_000);
    f.server.route('/only/w.tar', randomBytes(10_000));
    await writeTestLock(f.lockPath, { 'w.tar': pinnedEntry(good, [`${f.server.url}/only/w.tar`]) });
    const error = await fetchAll(['w.tar']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH', exitCode: 1 });
    expect(String((error as { expected: unknown }).expected)).toContain(sriOf(good).split(' ')[0]);
    expect(String((error as { found: unknown }).found)).toContain('digest differs');
    expect(existsSync(join(f.storeDir, 'w.tar'))).toBe(false);
  });

  it('gives up on a source after repeated 5xx and says how often it tried', async () => {
    const body = randomBytes(1000);
    f.server.route('/down/d.tar', body, ['status:503']);
    await writeTestLock(f.lockPath, { 'd.tar': pinnedEntry(body, [`${f.server.url}/down/d.tar`]) });
    const error = await fetchAll(['d.tar'], { tuning: { ...fast, attempts: 3 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    expect(String((error as { found: unknown }).found)).toContain('HTTP 503 (after 3 attempts)');
    expect(f.server.requests).toHaveLength(3);
  });
});

describe('fetcher store, mirrors, pinning and parallelism', () => {
  it('resumes a partial download left by an earlier run', async () => {
    const body = await serveOne('left.tar', 500_000, ['ok']);
    mkdirSync(join(f.storeDir, '.partial'), { recursive: true });
    writeFileSync(join(f.storeDir, '.partial', 'left.tar'), body.subarray(0, 123_456));
    const result = await fetchAll(['left.tar']);
    expect(readFileSync(result['left.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.range)).toEqual(['bytes=123456-']);
    expect(existsSync(join(f.storeDir, '.partial', 'left.tar'))).toBe(false);
  });

  it('starts over when bytes left by an earlier run turn out wrong', async () => {
    const body = await serveOne('stale.tar', 300_000, ['ok']);
    mkdirSync(join(f.storeDir, '.partial'), { recursive: true });
    writeFileSync(join(f.storeDir, '.partial', 'stale.tar'), randomBytes(100_000));
    const result = await fetchAll(['stale.tar']);
    expect(readFileSync(result['stale.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.range)).toEqual(['bytes=100000-', undefined]);
    expect(readdirSync(join(f.storeDir, '.bad'))).toHaveLength(1);
  });

  it('fetches many files in parallel', async () => {
    const entries: Record<string, ReturnType<typeof pinnedEntry>> = {};
    const bodies = new Map<string, Buffer>();
    for (let i = 0; i < 24; i++) {
      const name = `many-${i}.tar`;
      const body = randomBytes(50_000 + i * 20_000);
      bodies.set(name, body);
      f.server.route(`/${name}`, body);
      entries[name] = pinnedEntry(body, [`${f.server.url}/${name}`]);
    }
    await writeTestLock(f.lockPath, entries);
    const result = await fetchAll([], { jobs: 6 });
    expect(Object.keys(result).sort()).toEqual([...bodies.keys()].sort());
    for (const [name, body] of bodies) expect(readFileSync(result[name]!.path).equals(body)).toBe(true);
  });

  it('trusts a verified file on later runs without downloading, and refetches a changed one', async () => {
    const body = await serveOne('v.tar', 100_000, ['ok']);
    await fetchAll(['v.tar']);
    expect(f.server.requests).toHaveLength(1);
    await fetchAll(['v.tar']);
    expect(f.server.requests).toHaveLength(1);
    expect(f.events.filter((e) => e.type === 'verified')).toHaveLength(1);

    const path = join(f.storeDir, 'v.tar');
    const tampered = Buffer.from(body);
    tampered[5] ^= 1;
    writeFileSync(path, tampered);
    utimesSync(path, new Date(1000), new Date(1000));
    await fetchAll(['v.tar']);
    expect(f.server.requests).toHaveLength(2);
    expect(readFileSync(path).equals(body)).toBe(true);
    expect(readdirSync(join(f.storeDir, '.bad')).some((f) => f.startsWith('v.tar.bad-'))).toBe(true);
  });

  it('tries mirrors first: an http mirror, then a directory', async () => {
    const body = randomBytes(40_000);
    const mirrorDir = join(f.dir.path, 'mirror');
    mkdirSync(mirrorDir);
    writeFileSync(join(mirrorDir, 'm.tar'), body);
    f.server.route('/origin/m.tar', body);
    await writeTestLock(f.lockPath, { 'm.tar': pinnedEntry(body, [`${f.server.url}/origin/m.tar`]) });
    const result = await fetchAll(['m.tar'], { mirrors: [`${f.server.url}/mirror-http/`, mirrorDir] });
    expect(readFileSync(result['m.tar']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.path)).toEqual(['/mirror-http/m.tar']);
    expect(f.events.find((e) => e.type === 'done')).toMatchObject({ source: join(mirrorDir, 'm.tar') });
  });

  it('passes over an unreachable mirror to the next source, saying why', async () => {
    const body = randomBytes(20_000);
    f.server.route('/origin/o.tar', body);
    await writeTestLock(f.lockPath, { 'o.tar': pinnedEntry(body, [`${f.server.url}/origin/o.tar`]) });
    const closed = await startTestServer();
    const deadMirror = closed.url;
    await closed.close();
    const result = await fetchAll(['o.tar'], { mirrors: [deadMirror] });
    expect(readFileSync(result['o.tar']!.path).equals(body)).toBe(true);
    expect(f.events.find((e) => e.type === 'next-source')).toMatchObject({ source: `${deadMirror}/o.tar`, reason: 'unreachable (ECONNREFUSED)' });
  });

  it('refuses a mirror directory that does not exist', async () => {
    await serveOne('q.tar', 10, ['ok']);
    await expect(fetchAll(['q.tar'], { mirrors: [join(f.dir.path, 'nowhere')] })).rejects.toMatchObject({ code: 'EMIRROR' });
  });

  it('refuses an unpinned entry without --pin, and pins it with --pin', async () => {
    const body = randomBytes(70_000);
    f.server.route('/u.tar', body);
    await writeTestLock(f.lockPath, { 'u.tar': { size: null, integrity: null, urls: [`${f.server.url}/u.tar`], kind: 'source' } });
    await expect(fetchAll(['u.tar'])).rejects.toMatchObject({ code: 'EUNPINNED' });
    expect(f.server.requests).toHaveLength(0);

    await fetchAll(['u.tar'], { pin: true });
    const lock = await readLock(f.lockPath);
    expect(lock.distfiles['u.tar']).toMatchObject({ size: body.length, integrity: sriOf(body), urls: [`${f.server.url}/u.tar`] });
    expect(lock.distfiles['u.tar']!.from).toContain(`pinned on first use from ${f.server.url}/u.tar`);
    expect(f.events.some((e) => e.type === 'pinned')).toBe(true);
  });

  it('names an entry the lock does not have', async () => {
    await serveOne('k.tar', 10, ['ok']);
    await expect(fetchAll(['k.tar', 'nope.tar'])).rejects.toMatchObject({ code: 'EUNKNOWNDISTFILE', message: expect.stringContaining('"nope.tar"') });
  });
});
