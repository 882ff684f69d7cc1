import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLock } from '../../src/distfiles/read-lock.js';
import { writeLock } from '../../src/distfiles/write-lock.js';
import { cliPath, projectRoot, tempDir } from '../helpers/env.js';
import { pinnedEntry, sriOf, writeTestLock } from '../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../helpers/http-server.js';

const SQUASHFS_MANIFEST_LINE =
  'DIST squashfs-tools-4.6.1.tar.gz 286848 BLAKE2B 05e38681de219413573e8b1a7f36d2f7e87734f68a929ecdeb5ae6017076fbfd67b897448980e047689ef4b154d2dcd1a90162367a6a5babab45f1ef36f09325 SHA512 10e8a4b1e2327e062aef4f85860e76ebcd7a29e4c19e152ff7edec4a38316982b5bcfde4ab69da6bcb931258d264c2b6cb40cb5f635f9e6f6eba1ed5976267cb';

let server: TestServer;
let dir: { path: string; remove: () => void };
let lockPath: string;
let dest: string;

// The lock and the store of this test, never the project's defaults.
const cli = (...args: string[]) => {
  const own = [...(args.includes('--lock') ? [] : ['--lock', lockPath]), ...((args[0] === 'fetch' || args[1] === 'add') && !args.includes('--dest') ? ['--dest', dest] : [])];
  return execa(process.execPath, [cliPath, ...args, ...own], { reject: false, cwd: dir.path, env: { NO_COLOR: '1' } });
};

beforeEach(async () => {
  server = await startTestServer();
  dir = tempDir('distfiles-cli-');
  lockPath = join(dir.path, 'distfiles.lock');
  dest = join(dir.path, 'distfiles');
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

describe('bootstrap fetch', () => {
  it('refuses unpinned entries, then pins them with --pin', async () => {
    const body = randomBytes(120_000);
    server.route('/u-1.tar.gz', body);
    await writeTestLock(lockPath, { 'u-1.tar.gz': { size: null, integrity: null, urls: [`${server.url}/u-1.tar.gz`], kind: 'source' } });
    const refused = await cli('fetch');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('u-1.tar.gz is not pinned');
    const pinned = await cli('fetch', '--pin');
    expect(pinned.stderr).toBe('');
    expect(pinned.exitCode).toBe(0);
    expect(pinned.stdout).toContain('pinned u-1.tar.gz');
    expect(pinned.stdout).toContain(`1 distfiles verified in ${dest}`);
    expect((await readLock(lockPath)).distfiles['u-1.tar.gz']).toMatchObject({ size: body.length, integrity: sriOf(body) });
    expect(readFileSync(join(dest, 'u-1.tar.gz')).equals(body)).toBe(true);
  });

  it('fetches only what --only names, from a --mirror directory first, and prints JSON', async () => {
    const a = randomBytes(1000);
    const b = randomBytes(2000);
    const mirror = join(dir.path, 'mirror');
    mkdirSync(mirror);
    writeFileSync(join(mirror, 'a.tar'), a);
    await writeTestLock(lockPath, { 'a.tar': pinnedEntry(a, [`${server.url}/a.tar`]), 'b.tar': pinnedEntry(b, [`${server.url}/b.tar`]) });
    const result = await cli('fetch', '--only', 'a.tar', '--mirror', mirror, '--json', '--jobs', '2');
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.files['a.tar']).toEqual({ path: join(dest, 'a.tar'), size: 1000, integrity: sriOf(a) });
    expect(Object.keys(doc.files)).toEqual(['a.tar']);
    expect(server.requests).toHaveLength(0);
  });
});

describe('bootstrap lock', () => {
  it('verify checks the lock and every present file', async () => {
    const body = randomBytes(5000);
    mkdirSync(dest);
    writeFileSync(join(dest, 'v.tar'), body);
    await writeTestLock(lockPath, { 'v.tar': pinnedEntry(body, [`${server.url}/v.tar`]), 'w.tar': pinnedEntry(body, [`${server.url}/w.tar`]) });
    const ok = await cli('lock', 'verify', '--dest', dest);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('ok v.tar');
    expect(ok.stdout).toContain('missing w.tar');
    writeFileSync(join(dest, 'v.tar'), randomBytes(5000));
    const bad = await cli('lock', 'verify', '--dest', dest, '--json');
    expect(bad.exitCode).toBe(1);
    expect(JSON.parse(bad.stdout).files[0]).toMatchObject({ name: 'v.tar', status: 'mismatch' });
  });

  it('verify points at the line and column of malformed JSON', async () => {
    writeFileSync(lockPath, '{\n  "lockfileVersion": 1,\n  "distfiles": {\n    "a.tar": {,\n  }\n}\n');
    const result = await cli('lock', 'verify');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${lockPath}:4:15: not valid JSON`);
  });

  it('import-manifest pins from a Gentoo Manifest and refuses a disagreeing one without writing', async () => {
    const manifest = join(dir.path, 'sys-fs', 'squashfs-tools', 'Manifest');
    mkdirSync(join(dir.path, 'sys-fs', 'squashfs-tools'), { recursive: true });
    writeFileSync(manifest, `${SQUASHFS_MANIFEST_LINE}\nDIST other-1.tar.gz 10 BLAKE2B ${'ab'.repeat(64)} SHA512 ${'cd'.repeat(64)}\n`);
    await writeTestLock(lockPath, {
      'squashfs-tools-4.6.1.tar.gz': { size: null, integrity: null, urls: ['https://github.com/plougher/squashfs-tools/archive/4.6.1.tar.gz'], kind: 'source' },
    });
    const result = await cli('lock', 'import-manifest', manifest);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('pinned squashfs-tools-4.6.1.tar.gz');
    expect(result.stdout).toContain('skipped other-1.tar.gz');
    const project = await readLock(join(projectRoot, 'distfiles.lock'));
    expect((await readLock(lockPath)).distfiles['squashfs-tools-4.6.1.tar.gz']).toEqual(project.distfiles['squashfs-tools-4.6.1.tar.gz']);

    const again = await cli('lock', 'import-manifest', manifest);
    expect(again.stdout).toContain('matches squashfs-tools-4.6.1.tar.gz (sha512, blake2b512)');

    // An entry pinned on first use that the Manifest confirms takes the Manifest as its source.
    const tofu = await readLock(lockPath);
    tofu.distfiles['squashfs-tools-4.6.1.tar.gz']!.from = 'pinned on first use from https://example.org/x on 2026-01-01';
    await writeLock(lockPath, tofu);
    const confirmed = await cli('lock', 'import-manifest', manifest);
    expect(confirmed.stdout).toContain('confirmed squashfs-tools-4.6.1.tar.gz (sha512, blake2b512 agree; was: pinned on first use');
    expect((await readLock(lockPath)).distfiles['squashfs-tools-4.6.1.tar.gz']!.from).toBe('gentoo Manifest sys-fs/squashfs-tools');

    const before = readFileSync(lockPath, 'utf8');
    writeFileSync(manifest, SQUASHFS_MANIFEST_LINE.replace('286848', '286849'));
    const conflict = await cli('lock', 'import-manifest', manifest);
    expect(conflict.exitCode).toBe(1);
    expect(conflict.stderr).toContain('size 286848 in the lock, 286849 in the Manifest');
    expect(readFileSync(lockPath, 'utf8')).toBe(before);
  });

  it('add downloads, hashes and records a new entry', async () => {
    const body = randomBytes(64_000);
    server.route('/dl/tool-2.3.tar.xz', body);
    const result = await cli('lock', 'add', `${server.url}/dl/tool-2.3.tar.xz`, '--kind', 'seed', '--from', 'upstream release page');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect((await readLock(lockPath)).distfiles['tool-2.3.tar.xz']).toEqual({
      size: body.length,
      integrity: sriOf(body),
      urls: [`${server.url}/dl/tool-2.3.tar.xz`],
      kind: 'seed',
      from: 'upstream release page',
    });
    const duplicate = await cli('lock', 'add', `${server.url}/dl/tool-2.3.tar.xz`);
    expect(duplicate.exitCode).toBe(2);
    expect(duplicate.stderr).toContain('already has an entry named tool-2.3.tar.xz');
  });
});
