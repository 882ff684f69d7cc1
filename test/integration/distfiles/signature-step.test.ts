import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanContext, Root, RunContext } from '../../../src/engine/step-kind.js';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { createDistfilesKind } from '../../../src/steps/distfiles.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { useFetchFixture } from '../../helpers/fetch-fixture.js';
import { GPG_SKIP, hasGpgTools, testKeyring } from '../../helpers/gpg-keys.js';

/**
 * The distfiles step of a sealed run (no --pin, no --record) with the repository snapshot pinned
 * by a detached OpenPGP signature, as the shipped lock pins gentoo-20250101.tar.xz: the plan
 * does not refuse it, the run fetches the key entry and the file from 127.0.0.1, the real gpgv
 * accepts it, the file (not the key) is placed in the root, and the step's fingerprint stays the
 * same once the lock holds the digests (a resume does not redo the step and all after it).
 * No chroot needed: the step writes into the root as a folder.
 */

const DISTDIR = '/var/cache/distfiles';
const f = useFetchFixture('distfiles-signature-step-');
const keyring = testKeyring();
let release = '';
beforeAll(() => {
  if (hasGpgTools) release = keyring.makeKey('Release <release@example.org>');
});
afterAll(() => keyring.remove());

function contexts(rootPath: string): { plan: PlanContext; run: (plan: Awaited<ReturnType<ReturnType<typeof createDistfilesKind>['plan']>>) => RunContext; notes: string[] } {
  const root: Root = { name: 'lb', path: rootPath, host: false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
  const plan: PlanContext = { recipeDir: f.dir.path, params: {}, roots: { lb: root }, root, stepId: 'place-distfiles', preview: false, render: (text) => text };
  const notes: string[] = [];
  const run = (): RunContext => ({
    ...plan,
    workDir: join(f.dir.path, 'work'),
    log: { path: join(f.dir.path, 'log'), write: () => undefined, note: (line: string) => void notes.push(line) },
    signal: new AbortController().signal,
    runScript: () => Promise.reject(new Error('a distfiles step runs no scripts')),
  });
  return { plan, run, notes };
}

describe('a sealed distfiles step with an entry pinned by signature', () => {
  it('plans without refusing, fetches the key and the file, gpgv accepts it, places it; the fingerprint survives the digests', async (ctx) => {
    if (!hasGpgTools) ctx.skip(GPG_SKIP);
    const body = randomBytes(200_000);
    const key = gzipSync(keyring.gpg('--armor', '--export', release));
    f.server.route('/snapshots/gentoo-test.tar.xz', body);
    f.server.route('/snapshots/gentoo-test.tar.xz.gpgsig', keyring.sign(body, release));
    f.server.route('/keys/release.asc.gz', key);
    await writeTestLock(f.lockPath, {
      'release.asc.gz': { ...pinnedEntry(key, [`${f.server.url}/keys/release.asc.gz`]), group: 'signed-snapshot' },
      'gentoo-test.tar.xz': {
        size: null,
        integrity: null,
        urls: [`${f.server.url}/snapshots/gentoo-test.tar.xz`],
        kind: 'repo-snapshot',
        from: 'test: pinned by its signature',
        group: 'signed-snapshot',
        signature: { urls: [`${f.server.url}/snapshots/gentoo-test.tar.xz.gpgsig`], key: 'release.asc.gz', fingerprint: release.toLowerCase() },
      },
    });
    const rootPath = join(f.dir.path, 'root');
    mkdirSync(rootPath);
    const kind = createDistfilesKind({ lockPath: f.lockPath, storeDir: f.storeDir, record: false });
    const spec = kind.schema.parse({ files: ['gentoo-test.tar.xz'], all_sources: true, dir: DISTDIR });
    const c = contexts(rootPath);

    const before = await kind.plan(spec, c.plan);
    expect(before.refusals).toEqual([]);
    expect(before.notes).toEqual([]);
    // The key entry is fetched to check the signature, not placed: it is not a source for Portage.
    expect(before.distfiles).toEqual(['gentoo-test.tar.xz']);
    expect(before.summary).toContain(`  gentoo-test.tar.xz  signed by ${release.toLowerCase()} (checked with gpgv when fetched)`);

    const outcome = await kind.run(spec, before, c.run(before));
    const placed = join(rootPath, DISTDIR, 'gentoo-test.tar.xz');
    expect(readFileSync(placed).equals(body)).toBe(true);
    expect(existsSync(join(rootPath, DISTDIR, 'release.asc.gz'))).toBe(false);
    const entry = (await readLock(f.lockPath)).distfiles['gentoo-test.tar.xz']!;
    expect(entry.from).toMatch(/^verified with gpgv against its OpenPGP signature by key /);
    expect(outcome).toEqual({ distfiles: { 'gentoo-test.tar.xz': entry.integrity } });

    const after = await kind.plan(spec, c.plan);
    expect(after.summary).toContain(`  gentoo-test.tar.xz  ${entry.integrity!.slice(0, 27)}…`);
    // The detail is what the fingerprint hashes.
    expect(after.detail).toEqual(before.detail);
  });

  it('refuses a file signed by another key, placing nothing and leaving the entry without digests', async (ctx) => {
    if (!hasGpgTools) ctx.skip(GPG_SKIP);
    const body = randomBytes(50_000);
    const key = gzipSync(keyring.gpg('--armor', '--export', release));
    const stranger = testKeyring('gnupg-stranger-');
    try {
      stranger.makeKey('Stranger <stranger@example.org>');
      f.server.route('/gentoo-test.tar.xz', body);
      f.server.route('/gentoo-test.tar.xz.gpgsig', stranger.sign(body, 'Stranger <stranger@example.org>'));
    } finally {
      stranger.remove();
    }
    f.server.route('/release.asc.gz', key);
    await writeTestLock(f.lockPath, {
      'release.asc.gz': pinnedEntry(key, [`${f.server.url}/release.asc.gz`]),
      'gentoo-test.tar.xz': {
        size: null,
        integrity: null,
        urls: [`${f.server.url}/gentoo-test.tar.xz`],
        kind: 'repo-snapshot',
        from: 'test',
        signature: { urls: [`${f.server.url}/gentoo-test.tar.xz.gpgsig`], key: 'release.asc.gz', fingerprint: release.toLowerCase() },
      },
    });
    const rootPath = join(f.dir.path, 'root');
    mkdirSync(rootPath);
    const kind = createDistfilesKind({ lockPath: f.lockPath, storeDir: f.storeDir, record: false });
    const spec = kind.schema.parse({ files: ['gentoo-test.tar.xz'], dir: DISTDIR });
    const c = contexts(rootPath);
    const plan = await kind.plan(spec, c.plan);
    await expect(kind.run(spec, plan, c.run(plan))).rejects.toMatchObject({ code: 'EFETCH' });
    expect(existsSync(join(rootPath, DISTDIR, 'gentoo-test.tar.xz'))).toBe(false);
    expect((await readLock(f.lockPath)).distfiles['gentoo-test.tar.xz']!.integrity).toBeNull();
  });
});
