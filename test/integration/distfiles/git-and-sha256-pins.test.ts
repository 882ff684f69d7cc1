import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FetchTuning } from '../../../src/distfiles/tuning.js';
import { writeTestLock } from '../../helpers/distfiles-lock.js';
import { tempDir } from '../../helpers/env.js';
import { useFetchFixture } from '../../helpers/fetch-fixture.js';
import { serveGitRepository } from '../../helpers/http-server.js';

/**
 * Entries pinned by a git commit (fetched with the real git from a bare repository served over
 * dumb HTTP on 127.0.0.1) and entries pinned by sha256 alone with no size (as live-bootstrap's
 * sources files give them), through the same ensureDistfiles every fetch uses.
 */

const fast: Partial<FetchTuning> = { backoffMs: 10, bodyTimeoutMs: 2000, headersTimeoutMs: 2000, attempts: 2 };
const f = useFetchFixture('distfiles-git-');
const made: Array<{ remove: () => void }> = [];
afterEach(() => made.splice(0).forEach((d) => d.remove()));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', ...args], { cwd, stdio: 'pipe' });

/** A repository with two commits, served as dumb HTTP at /<name>.git; returns the first commit (no longer a branch tip) and the archive git makes of it. */
function serveRepo(name: string): { first: string; second: string; archive: (commit: string) => Buffer } {
  const work = tempDir('git-src-');
  made.push(work);
  git(work.path, 'init', '--quiet');
  writeFileSync(join(work.path, 'hello.txt'), 'hello\n');
  mkdirSync(join(work.path, 'bin'));
  writeFileSync(join(work.path, 'bin/run'), '#!/bin/sh\necho run\n', { mode: 0o755 });
  symlinkSync('hello.txt', join(work.path, 'link'));
  git(work.path, 'add', '-A');
  git(work.path, 'commit', '--quiet', '-m', 'one');
  const first = git(work.path, 'rev-parse', 'HEAD').toString().trim();
  writeFileSync(join(work.path, 'hello.txt'), 'hello again\n');
  git(work.path, 'commit', '--quiet', '-am', 'two');
  const second = git(work.path, 'rev-parse', 'HEAD').toString().trim();
  const bare = join(work.path, `${name}.git`);
  serveGitRepository(f.server, name, work.path, work.path);
  const archive = (commit: string) => git(bare, 'archive', '--format=tar', commit);
  return { first, second, archive };
}

const gitEntry = (commit: string, urls: string[]) => ({
  size: null,
  integrity: null,
  urls,
  kind: 'repo-snapshot' as const,
  from: 'test',
  group: 'live-bootstrap',
  git: { commit, path: 'sub/dir' },
});

describe('entries pinned by a git commit', () => {
  it('fetches the commit over dumb HTTP (after a URL that fails) and stores git archive of it, byte for byte', async () => {
    const repo = serveRepo('demo');
    const name = `demo-${repo.first.slice(0, 12)}.tar`;
    await writeTestLock(f.lockPath, { [name]: gitEntry(repo.first, [`${f.server.url}/missing.git`, `${f.server.url}/demo.git`]) });
    // Left by a fetch that was killed: removed by the next one, which holds the name's lock.
    mkdirSync(join(f.storeDir, '.partial', `${name}.git-killed/repo.git`), { recursive: true });
    const result = await f.ensure({ names: [name], tuning: fast });
    const stored = readFileSync(result[name]!.path);
    expect(stored.equals(repo.archive(repo.first))).toBe(true);
    expect(stored.equals(repo.archive(repo.second))).toBe(false);
    // Both URLs were asked: the first answered 404 for everything.
    expect(f.server.requests.some((r) => r.path.startsWith('/missing.git/'))).toBe(true);
    expect(f.events.find((e) => e.type === 'done')).toMatchObject({ source: `${f.server.url}/demo.git` });
    expect(readdirSync(join(f.storeDir, '.partial'))).toEqual([]);

    // Later runs trust bootstrap's own record of the archive: no request at all.
    const before = f.server.requests.length;
    await f.ensure({ names: [name], tuning: fast });
    expect(f.server.requests.length).toBe(before);
  });

  it('refuses a repository that lacks the pinned commit and leaves nothing under the name', async () => {
    serveRepo('demo');
    const missing = 'ab'.repeat(20);
    const name = `demo-${missing.slice(0, 12)}.tar`;
    await writeTestLock(f.lockPath, { [name]: gitEntry(missing, [`${f.server.url}/demo.git`]) });
    await expect(f.ensure({ names: [name], tuning: fast })).rejects.toMatchObject({ code: 'EFETCH', message: expect.stringContaining(`no source gave git commit ${missing}`) });
    expect(existsSync(join(f.storeDir, name))).toBe(false);
  });

  it('does not trust an archive it did not make: a changed file is set aside and made again', async () => {
    const repo = serveRepo('demo');
    const name = `demo-${repo.first.slice(0, 12)}.tar`;
    await writeTestLock(f.lockPath, { [name]: gitEntry(repo.first, [`${f.server.url}/demo.git`]) });
    await f.ensure({ names: [name], tuning: fast });
    writeFileSync(join(f.storeDir, name), 'not an archive');
    const result = await f.ensure({ names: [name], tuning: fast });
    expect(readFileSync(result[name]!.path).equals(repo.archive(repo.first))).toBe(true);
    expect(readdirSync(join(f.storeDir, '.bad')).some((n) => n.startsWith(`${name}.bad-`))).toBe(true);
  });
});

describe('entries pinned by sha256 alone, size unknown', () => {
  const sha256 = (data: Buffer) => `sha256-${createHash('sha256').update(data).digest('base64')}`;
  const entry = (data: Buffer, urls: string[]) => ({ size: null, integrity: sha256(data), urls, kind: 'source' as const, from: 'live-bootstrap@fcfc7bde:steps/x/sources', group: 'live-bootstrap' });

  it('fails over across the URLs in order: a 404, wrong bytes (set aside), then the right file', async () => {
    const body = randomBytes(200_000);
    f.server.route('/wrong/x.tar.gz', randomBytes(200_000));
    f.server.route('/good/x.tar.gz', body);
    const urls = ['gone', 'wrong', 'good'].map((d) => `${f.server.url}/${d}/x.tar.gz`);
    await writeTestLock(f.lockPath, { 'x.tar.gz': entry(body, urls) });
    const result = await f.ensure({ names: ['x.tar.gz'], tuning: fast });
    expect(readFileSync(result['x.tar.gz']!.path).equals(body)).toBe(true);
    expect(f.server.requests.map((r) => r.path)).toEqual(['/gone/x.tar.gz', '/wrong/x.tar.gz', '/good/x.tar.gz']);
    expect(f.events.filter((e) => e.type === 'mismatch')).toHaveLength(1);
    expect(readdirSync(join(f.storeDir, '.bad'))).toHaveLength(1);
  });

  it('resumes a dropped download with Range and checks the whole file against the sha256', async () => {
    const body = randomBytes(2_000_000);
    f.server.route('/x.tar.gz', body, ['drop:900000', 'ok']);
    await writeTestLock(f.lockPath, { 'x.tar.gz': entry(body, [`${f.server.url}/x.tar.gz`]) });
    const result = await f.ensure({ names: ['x.tar.gz'], tuning: fast });
    expect(readFileSync(result['x.tar.gz']!.path).equals(body)).toBe(true);
    expect(f.server.requests[1]!.range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('refuses a file no URL serves right, leaving nothing under the name', async () => {
    f.server.route('/x.tar.gz', randomBytes(1000));
    await writeTestLock(f.lockPath, { 'x.tar.gz': entry(randomBytes(1000), [`${f.server.url}/x.tar.gz`]) });
    await expect(f.ensure({ names: ['x.tar.gz'], tuning: fast })).rejects.toMatchObject({ code: 'EFETCH' });
    expect(existsSync(join(f.storeDir, 'x.tar.gz'))).toBe(false);
  });
});
