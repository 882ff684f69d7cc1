import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseIntegrity } from '../../../src/distfiles/integrity.js';
import { importLiveBootstrap } from '../../../src/distfiles/live-bootstrap-import.js';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/env.js';

/**
 * The importer on a small live-bootstrap-shaped checkout made in the test with the real git:
 * a superproject with steps/manifest and sources files, a submodule seed/stage0-posix with a
 * nested bootstrap-seeds, cloned recursively as `git clone --recursive` does. The real
 * live-bootstrap 1.0 is in test/real/live-bootstrap-lock.test.ts.
 */

const URL_TOP = 'https://example.org/fosslinux/live-bootstrap';
const SEEDS_URL = 'https://github.com/oriansj/bootstrap-seeds';
const hex0 = Buffer.alloc(256, 7);
const kaem = Buffer.from('kaem-optional-seed bytes');
const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const A = sha('a');
const B = sha('b');

let tmp: { path: string; remove: () => void };
let checkout = '';
let lockPath = '';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', '-c', 'advice.detachedHead=false', ...args], { cwd, stdio: 'pipe' }).toString().trim();
}

function repo(name: string, files: Record<string, string | Buffer>): string {
  const dir = join(tmp.path, 'origin', name);
  mkdirSync(dir, { recursive: true });
  git(dir, 'init', '--quiet');
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', name);
  return dir;
}

function addSubmodule(parent: string, url: string, path: string): void {
  git(parent, 'submodule', '--quiet', 'add', url, path);
  git(parent, 'commit', '--quiet', '-m', `add ${path}`);
}

/** Builds the origin repositories and a recursive clone of the top one; `sources` are the steps' sources files. */
function makeCheckout(sources: Record<string, string>): void {
  const seeds = repo('bootstrap-seeds', { 'POSIX/x86/hex0-seed': hex0, 'POSIX/x86/kaem-optional-seed': kaem });
  const stage0 = repo('stage0-posix', { 'kaem.x86': 'x\n' });
  addSubmodule(stage0, seeds, 'bootstrap-seeds');
  // The seeds' raw URLs are GitHub's: the public URL goes in .gitmodules, and the clone below maps it to the local repository.
  writeFileSync(join(stage0, '.gitmodules'), `[submodule "bootstrap-seeds"]\n\tpath = bootstrap-seeds\n\turl = ${SEEDS_URL}\n`);
  git(stage0, 'commit', '--quiet', '-am', 'public submodule URL');
  const steps = Object.keys(sources).map((step) => `build: ${step} ( ARCH == x86 )`);
  const top = repo('live-bootstrap', {
    'steps/manifest': `# comment\nimprove: setup\n${steps.join('\n')}\nbuild: missing-dir\n`,
    ...Object.fromEntries(Object.entries(sources).map(([step, text]) => [`steps/${step}/sources`, text])),
  });
  addSubmodule(top, stage0, 'seed/stage0-posix');
  // .gitmodules point at local paths; the lock wants the public URLs: rewrite them as a real checkout would have them.
  writeFileSync(join(top, '.gitmodules'), '[submodule "seed/stage0-posix"]\n\tpath = seed/stage0-posix\n\turl = ../stage0-posix\n');
  git(top, 'commit', '--quiet', '-am', 'relative submodule URL');
  checkout = join(tmp.path, 'checkout');
  git(tmp.path, 'clone', '--quiet', top, checkout);
  // `git submodule update --init --recursive` resolves ../stage0-posix against the clone's origin (the local path).
  git(checkout, '-c', `url.${seeds}.insteadOf=${SEEDS_URL}`, 'submodule', '--quiet', 'update', '--init', '--recursive');
}

beforeEach(() => {
  tmp = tempDir('lb-import-');
  lockPath = join(tmp.path, 'distfiles.lock');
  writeFileSync(lockPath, '{ "lockfileVersion": 1, "distfiles": {} }\n');
});
afterEach(() => tmp.remove());

describe('lock import-live-bootstrap', () => {
  it('adds the superproject and nested submodules by commit, the x86 seeds and every source once, with all its URLs; again changes nothing', async () => {
    makeCheckout({
      'a-1.0': `https://example.org/a-1.0.tar.gz ${A}\nhttps://example.org/b.tar.gz ${B} b-2.0.tar.gz  \n`,
      'a-1.1': `https://mirror.example.org/a-1.0.tar.gz ${A} a-1.0.tar.gz\nhttps://example.org/a-1.0.tar.gz ${A}\n`,
    });
    const result = await importLiveBootstrap({ lockPath, checkout, url: URL_TOP });
    const lock = await readLock(lockPath);
    const top = git(checkout, 'rev-parse', 'HEAD');
    const stage0 = git(join(checkout, 'seed/stage0-posix'), 'rev-parse', 'HEAD');
    const seeds = git(join(checkout, 'seed/stage0-posix/bootstrap-seeds'), 'rev-parse', 'HEAD');
    expect(Object.keys(lock.distfiles).sort()).toEqual(
      ['a-1.0.tar.gz', 'b-2.0.tar.gz', `bootstrap-seeds-${seeds.slice(0, 12)}.tar`, `live-bootstrap-${top.slice(0, 12)}.tar`, `stage0-posix-${stage0.slice(0, 12)}.tar`, 'x86-hex0-seed', 'x86-kaem-optional-seed'].sort(),
    );
    expect(lock.distfiles[`stage0-posix-${stage0.slice(0, 12)}.tar`]).toEqual({
      size: null,
      integrity: null,
      urls: ['https://example.org/fosslinux/stage0-posix'],
      kind: 'repo-snapshot',
      from: `gitlink seed/stage0-posix in live-bootstrap@${top.slice(0, 8)}`,
      group: 'live-bootstrap',
      git: { commit: stage0, path: 'seed/stage0-posix' },
    });
    expect(lock.distfiles[`bootstrap-seeds-${seeds.slice(0, 12)}.tar`]!.git).toEqual({ commit: seeds, path: 'seed/stage0-posix/bootstrap-seeds' });
    expect(lock.distfiles['a-1.0.tar.gz']).toEqual({
      size: null,
      integrity: `sha256-${Buffer.from(A, 'hex').toString('base64')}`,
      urls: ['https://example.org/a-1.0.tar.gz', 'https://mirror.example.org/a-1.0.tar.gz'],
      kind: 'source',
      from: `live-bootstrap@${top.slice(0, 8)}:steps/a-1.0/sources`,
      group: 'live-bootstrap',
    });
    const seed = lock.distfiles['x86-hex0-seed']!;
    expect(seed.size).toBe(256);
    expect(parseIntegrity(seed.integrity!).sha256).toBe(createHash('sha256').update(hex0).digest('base64'));
    expect(result.entries.map((e) => e.status)).toEqual(result.entries.map(() => 'added'));
    expect(result.unread).toEqual([]);

    const before = readFileSync(lockPath, 'utf8');
    const again = await importLiveBootstrap({ lockPath, checkout, url: URL_TOP });
    expect(again.entries.every((e) => e.status === 'unchanged')).toBe(true);
    expect(readFileSync(lockPath, 'utf8')).toBe(before);
  });

  it('refuses a name the sources files give two hashes, naming both lines', async () => {
    makeCheckout({ 'a-1.0': `https://example.org/a.tar.gz ${A}\n`, 'a-1.1': `https://example.org/other/a.tar.gz ${B}\n` });
    await expect(importLiveBootstrap({ lockPath, checkout, url: URL_TOP })).rejects.toMatchObject({
      code: 'ELBSOURCES',
      message: expect.stringMatching(/:steps\/a-1\.1\/sources:1: a\.tar\.gz has sha256 [0-9a-f]{64}, but steps\/a-1\.0\/sources:1 gives [0-9a-f]{64}$/),
    });
    expect(readFileSync(lockPath, 'utf8')).toBe('{ "lockfileVersion": 1, "distfiles": {} }\n');
  });

  it('refuses to change an entry the lock already has with another hash, and writes nothing', async () => {
    makeCheckout({ 'a-1.0': `https://example.org/a.tar.gz ${A}\n` });
    const other = { size: null, integrity: `sha256-${Buffer.from(B, 'hex').toString('base64')}`, urls: ['https://example.org/a.tar.gz'], kind: 'source', from: 'earlier', group: 'live-bootstrap' };
    writeFileSync(lockPath, `${JSON.stringify({ lockfileVersion: 1, distfiles: { 'a.tar.gz': other } }, null, 2)}\n`);
    const before = readFileSync(lockPath, 'utf8');
    await expect(importLiveBootstrap({ lockPath, checkout, url: URL_TOP })).rejects.toMatchObject({
      code: 'ELBIMPORT',
      message: expect.stringContaining(`a.tar.gz: sha256 ${B} in the lock, ${A} in the checkout`),
    });
    expect(readFileSync(lockPath, 'utf8')).toBe(before);
  });

  it.each([
    [`https://example.org/a.tar.gz\n`, 'steps/a-1.0/sources:1: expected "URL SHA256 [NAME]"'],
    [`https://example.org/a.tar.gz ${A.toUpperCase()}\n`, 'is not a sha256 in lowercase hex'],
    [`ftp://example.org/a.tar.gz ${A}\n`, 'is not an http(s) URL'],
    [`https://example.org/x ${A} ../a.tar.gz\n`, 'file name "../a.tar.gz" contains "/"'],
  ])('refuses the sources line %j with the file and line', async (text, message) => {
    makeCheckout({ 'a-1.0': text });
    await expect(importLiveBootstrap({ lockPath, checkout, url: URL_TOP })).rejects.toMatchObject({ code: 'ELBSOURCES', message: expect.stringContaining(message) });
  });

  it('through the CLI: a summary, and a clear error for a folder that is not a checkout or has no public URL', async () => {
    makeCheckout({ 'a-1.0': `https://example.org/a.tar.gz ${A}\n` });
    const ok = await cli(['lock', 'import-live-bootstrap', checkout, '--lock', lockPath, '--url', URL_TOP]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toMatch(/^live-bootstrap [0-9a-f]{40}: 6 entries \(3 repo-snapshot, 2 seed, 1 source\); 6 added, 0 given more URLs or an allow-list, 0 unchanged$/);
    const notCheckout = await cli(['lock', 'import-live-bootstrap', join(checkout, 'steps'), '--lock', lockPath]);
    expect(notCheckout.exitCode).toBe(2);
    expect(notCheckout.stderr).toContain('is not the top of a git checkout');
    const noUrl = await cli(['lock', 'import-live-bootstrap', checkout, '--lock', lockPath]);
    expect(noUrl.exitCode).toBe(2);
    expect(noUrl.stderr).toContain('is not an http(s) URL');
    expect(noUrl.stderr).toContain('--url');
  });
});
