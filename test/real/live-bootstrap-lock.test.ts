import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseIntegrity } from '../../src/distfiles/integrity.js';
import { importLiveBootstrap } from '../../src/distfiles/live-bootstrap-import.js';
import { type LiveBootstrapSource, readLiveBootstrapSources } from '../../src/distfiles/live-bootstrap-sources.js';
import { readLock } from '../../src/distfiles/read-lock.js';
import { cli } from '../helpers/cli.js';
import { projectRoot, tempDir } from '../helpers/env.js';

/**
 * The live-bootstrap importer on the real thing: live-bootstrap 1.0 (fcfc7bde). Its data files
 * come from the shared folder (../shared/real/live-bootstrap-1.0-fcfc7bde-sources.tar.gz,
 * BOOTSTRAP_SHARED); its git history, to make a checkout with real gitlinks, from bare mirrors
 * of the repositories (BOOTSTRAP_GIT_MIRRORS, default /work/.mirror: <owner>+<name>/repo, as the
 * tool library's fetch leaves them; test/real/README.md, "live-bootstrap").
 */

const SHARED = process.env.BOOTSTRAP_SHARED ? resolve(process.env.BOOTSTRAP_SHARED) : resolve(projectRoot, '../shared');
const SOURCES_TAR = join(SHARED, 'real/live-bootstrap-1.0-fcfc7bde-sources.tar.gz');
const MIRRORS = process.env.BOOTSTRAP_GIT_MIRRORS ?? '/work/.mirror';
const COMMIT = 'fcfc7bdef6fb73f7dceb9e140737aa80989fe0ca';

/** Submodules with a mirror here (the x86 chain's and builder-hex0); the other architectures' are pinned from their gitlinks. */
const CHECKED_OUT: Array<[path: string, mirror: string, commit: string]> = [
  ['builder-hex0', 'ironmeld+builder-hex0', 'a2781242d19e6be891b453d8fa827137ab5db31a'],
  ['seed/stage0-posix', 'oriansj+stage0-posix', 'a779ee607a7921876388e6174419fc86d60e53c4'],
  ['seed/stage0-posix/x86', 'oriansj+stage0-posix-x86', '83508012c952e3aa3f70a89fd7d85d9a1af6f305'],
  ['seed/stage0-posix/bootstrap-seeds', 'oriansj+bootstrap-seeds', '99a0ee1e544905d4aaace0de3867f13425e502f2'],
  ['seed/stage0-posix/M2libc', 'oriansj+M2libc', '3a700010872697c4be9e3fab3cf707fce706741e'],
  ['seed/stage0-posix/M2-Planet', 'oriansj+M2-Planet', '5c251e67e28e0a441589b9c3f5150758b8034998'],
  ['seed/stage0-posix/M2-Mesoplanet', 'oriansj+M2-Mesoplanet', '2935751e3b74f468aa846fff844ce96f62d575ac'],
  ['seed/stage0-posix/mescc-tools', 'oriansj+mescc-tools', '08d5a0679fa4dc00babe02306f1bc50703083389'],
  ['seed/stage0-posix/mescc-tools-extra', 'oriansj+mescc-tools-extra', '460648be66c4b4e4eeb138b8b88d5d6e0077e79e'],
  // Their own M2libc submodules (a recursive clone checks these out too).
  ['seed/stage0-posix/M2-Planet/M2libc', 'oriansj+M2libc', '93c27f086d1a2a686d15006183d635ebb54a4508'],
  ['seed/stage0-posix/M2-Mesoplanet/M2libc', 'oriansj+M2libc', '479d53d78cb46f2da6efdad18e1cc87a46cce097'],
  ['seed/stage0-posix/mescc-tools/M2libc', 'oriansj+M2libc', 'de7c75f144176c3b9be77695d9bf94440445aeae'],
  ['seed/stage0-posix/mescc-tools-extra/M2libc', 'oriansj+M2libc', '479d53d78cb46f2da6efdad18e1cc87a46cce097'],
];

const lock0 = (result: { entries: Array<{ name: string; kind: string }> }) => result.entries.filter((e) => e.kind === 'repo-snapshot').map((e) => e.name);
const hex = (base64: string) => Buffer.from(base64, 'base64').toString('hex');

describe('live-bootstrap 1.0 sources, read as its generator reads them', () => {
  const work = tempDir('lb-sources-');
  let tree = '';
  let sources: LiveBootstrapSource[] = [];
  beforeAll(async () => {
    if (!existsSync(SOURCES_TAR)) return;
    execFileSync('tar', ['-xzf', SOURCES_TAR, '-C', work.path]);
    tree = join(work.path, 'live-bootstrap-1.0');
    sources = await readLiveBootstrapSources(async (path) => (existsSync(join(tree, path)) ? readFileSync(join(tree, path), 'utf8') : undefined), tree);
  });
  afterAll(() => work.remove());

  it('finds 242 distinct files in the 313 lines of the sources files its manifest names, one sha256 each', (ctx) => {
    if (!tree) ctx.skip(`needs ${SOURCES_TAR} (the shared folder beside the checkout, or set BOOTSTRAP_SHARED)`);
    // Lines of every sources file of a `build:` step, as get_source_manifest visits them (tcc-0.9.27 twice).
    const manifest = readFileSync(join(tree, 'steps/manifest'), 'utf8');
    const visited = manifest.split('\n').filter((l) => l.trim().startsWith('build: ')).map((l) => l.split(' ')[1]!.split('#')[0]!.trim());
    const lines = [...new Set(visited)].flatMap((step) => {
      const path = join(tree, 'steps', step, 'sources');
      return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
    });
    expect(lines).toHaveLength(313);
    // What live-bootstrap itself lists: one entry per distinct (sha256, URL, name).
    expect(new Set(lines.map((l) => l.trim())).size).toBe(266);
    expect(sources).toHaveLength(242);
    expect(new Set(sources.map((s) => s.sha256)).size).toBe(242);
    // Every line's sha256 is the one of the entry of its name.
    const byName = new Map(sources.map((s) => [s.name, s]));
    for (const line of lines) {
      const [url, sha256, name] = line.trim().split(' ');
      const entry = byName.get(name ?? url!.split('/').pop()!)!;
      expect(entry.sha256).toBe(sha256);
      expect(entry.urls).toContain(url);
    }
  });

  it('keeps every URL of a file, in the order the manifest meets them, and names the first sources file', (ctx) => {
    if (!tree) ctx.skip(`needs ${SOURCES_TAR}`);
    const byName = new Map(sources.map((s) => [s.name, s]));
    expect(byName.get('nyacc-1.00.2-lb1.tar.gz')).toEqual({
      name: 'nyacc-1.00.2-lb1.tar.gz',
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      urls: [
        'https://github.com/Googulator/nyacc/releases/download/V1.00.2-lb1/nyacc-1.00.2-lb1.tar.gz',
        'https://archive.org/download/live-bootstrap-sources/nyacc-1.00.2-lb1.tar.gz',
        'https://files.bootstrapping.world/nyacc-1.00.2-lb1.tar.gz',
      ],
      file: 'steps/mes-0.26.1/sources',
    });
    expect(byName.get('autoconf-2.52.tar.bz2')).toEqual({
      name: 'autoconf-2.52.tar.bz2',
      sha256: '4681bcbb9c9298c506f6405a7deb62c54fc3b339d3239a8f36a5df83daaec94f',
      urls: ['https://mirrors.kernel.org/gnu/autoconf/autoconf-2.52.tar.bz2'],
      file: 'steps/autoconf-2.52/sources',
    });
    expect(sources.filter((s) => s.urls.length > 1)).toHaveLength(22);
  });
});

describe('bootstrap lock import-live-bootstrap on a checkout of live-bootstrap 1.0', () => {
  const work = tempDir('lb-import-');
  const checkout = join(work.path, 'live-bootstrap');
  const lockPath = join(work.path, 'distfiles.lock');
  let skip: string | undefined;
  beforeAll(() => {
    const missing = ['fosslinux+live-bootstrap', ...CHECKED_OUT.map((c) => c[1])].map((m) => join(MIRRORS, m, 'repo')).filter((p) => !existsSync(p));
    if (missing.length > 0) {
      skip = `needs bare git mirrors at ${missing.join(', ')} (fetch github:<owner>/<name> with the tool library, or set BOOTSTRAP_GIT_MIRRORS)`;
      return;
    }
    // A checkout as `git clone -b 1.0 --recursive` leaves it, for the submodules that have a mirror here.
    const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'advice.detachedHead=false', ...args], { cwd, stdio: 'pipe' });
    git(work.path, 'clone', '--quiet', '--shared', '--no-checkout', join(MIRRORS, 'fosslinux+live-bootstrap/repo'), checkout);
    git(checkout, 'checkout', '--quiet', COMMIT);
    for (const [path, mirror, commit] of CHECKED_OUT) {
      rmSync(join(checkout, path), { recursive: true, force: true });
      git(checkout, 'clone', '--quiet', '--shared', '--no-checkout', join(MIRRORS, mirror, 'repo'), path);
      git(join(checkout, path), 'checkout', '--quiet', commit);
    }
    writeFileSync(lockPath, '{ "lockfileVersion": 1, "distfiles": {} }\n');
  });
  afterAll(() => work.remove());

  it('pins live-bootstrap and its 18 submodules by commit, the two x86 seeds, and the 242 sources; importing again changes nothing', async (ctx) => {
    if (skip) ctx.skip(skip);
    const result = await importLiveBootstrap({ lockPath, checkout, url: 'https://github.com/fosslinux/live-bootstrap' });
    expect(result.commit).toBe(COMMIT);
    const kinds = (kind: string) => result.entries.filter((e) => e.kind === kind);
    expect(kinds('repo-snapshot')).toHaveLength(19);
    // M2libc 479d53d7 sits in two places: one entry each.
    expect(lock0(result).filter((n) => n.startsWith('m2libc-479d53d78cb4'))).toEqual(['m2libc-479d53d78cb4.tar', 'm2libc-479d53d78cb4+seed+stage0-posix+mescc-tools-extra+M2libc.tar']);
    expect(kinds('seed').map((e) => e.name)).toEqual(['x86-hex0-seed', 'x86-kaem-optional-seed']);
    expect(kinds('source')).toHaveLength(242);
    expect(result.entries.every((e) => e.status === 'added')).toBe(true);
    expect(result.unread.sort()).toEqual(['seed/stage0-posix/AArch64', 'seed/stage0-posix/AMD64', 'seed/stage0-posix/armv7l', 'seed/stage0-posix/riscv32', 'seed/stage0-posix/riscv64']);

    const lock = await readLock(lockPath);
    expect(Object.values(lock.distfiles).every((e) => e.group === 'live-bootstrap')).toBe(true);
    expect(lock.distfiles['live-bootstrap-fcfc7bdef6fb.tar']).toEqual({
      size: null,
      integrity: null,
      urls: ['https://github.com/fosslinux/live-bootstrap'],
      kind: 'repo-snapshot',
      from: 'HEAD of the live-bootstrap checkout imported by lock import-live-bootstrap',
      group: 'live-bootstrap',
      git: { commit: COMMIT, path: '' },
    });
    expect(lock.distfiles['stage0-posix-x86-83508012c952.tar']).toMatchObject({
      urls: ['https://github.com/oriansj/stage0-posix-x86.git'],
      from: 'gitlink x86 in stage0-posix@a779ee60',
      git: { commit: '83508012c952e3aa3f70a89fd7d85d9a1af6f305', path: 'seed/stage0-posix/x86' },
    });
    expect(lock.distfiles['mescc-tools-08d5a0679fa4.tar']!.urls).toEqual(['https://git.savannah.nongnu.org/git/mescc-tools.git']);
    expect(lock.distfiles['builder-hex0-a2781242d19e.tar']!.from).toBe('gitlink builder-hex0 in live-bootstrap@fcfc7bde');

    // The seeds: the bytes at bootstrap-seeds 99a0ee1e, the 256-byte hex0 seed first.
    const seed = lock.distfiles['x86-hex0-seed']!;
    const blob = execFileSync('git', ['--git-dir', join(MIRRORS, 'oriansj+bootstrap-seeds/repo'), 'cat-file', 'blob', '99a0ee1e544905d4aaace0de3867f13425e502f2:POSIX/x86/hex0-seed']);
    expect(seed.size).toBe(blob.length);
    expect(blob.length).toBe(256);
    expect(hex(parseIntegrity(seed.integrity!).sha256!)).toBe(execFileSync('sha256sum', { input: blob }).toString().split(' ')[0]);
    expect(seed.urls).toEqual(['https://raw.githubusercontent.com/oriansj/bootstrap-seeds/99a0ee1e544905d4aaace0de3867f13425e502f2/POSIX/x86/hex0-seed']);

    const nyacc = lock.distfiles['nyacc-1.00.2-lb1.tar.gz']!;
    expect(nyacc).toMatchObject({ size: null, kind: 'source', from: 'live-bootstrap@fcfc7bde:steps/mes-0.26.1/sources' });
    expect(nyacc.urls).toHaveLength(3);
    expect(nyacc.integrity).toMatch(/^sha256-[A-Za-z0-9+/]{43}=$/);

    // The same sources as the shared folder's copy of the data files, hash for hash.
    if (existsSync(SOURCES_TAR)) {
      const tree = join(work.path, 'shared-copy');
      execFileSync('mkdir', ['-p', tree]);
      execFileSync('tar', ['-xzf', SOURCES_TAR, '-C', tree]);
      const root = join(tree, 'live-bootstrap-1.0');
      const shared = await readLiveBootstrapSources(async (p) => (existsSync(join(root, p)) ? readFileSync(join(root, p), 'utf8') : undefined), root);
      for (const source of shared) expect(hex(parseIntegrity(lock.distfiles[source.name]!.integrity!).sha256!)).toBe(source.sha256);
    }

    const before = readFileSync(lockPath, 'utf8');
    const again = await importLiveBootstrap({ lockPath, checkout, url: 'https://github.com/fosslinux/live-bootstrap' });
    expect(again.entries.every((e) => e.status === 'unchanged')).toBe(true);
    expect(readFileSync(lockPath, 'utf8')).toBe(before);
  });

  it('lets the audit pass the seeds inside bootstrap-seeds, which it names, and no other binary', async (ctx) => {
    if (skip) ctx.skip(skip);
    const store = join(work.path, 'seeds-store');
    mkdirSync(store);
    const tar = join(store, 'bootstrap-seeds-99a0ee1e5449.tar');
    execFileSync('git', ['--git-dir', join(MIRRORS, 'oriansj+bootstrap-seeds/repo'), 'archive', '--format=tar', '-o', tar, '99a0ee1e544905d4aaace0de3867f13425e502f2']);
    const audit = await cli(['audit', '--json', '--lock', lockPath, '--distdir', store]);
    const checks = JSON.parse(audit.stdout).checks as Array<{ subject: string; check: string; status: string }>;
    const binaries = checks.find((c) => c.subject === 'bootstrap-seeds-99a0ee1e5449.tar' && c.check === 'binaries');
    expect(binaries?.status, JSON.stringify(binaries)).toBe('warn');
    expect(JSON.stringify(binaries)).toContain('POSIX/x86/hex0-seed');
    // A binary the allow-list does not name still fails.
    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    lock.distfiles['bootstrap-seeds-99a0ee1e5449.tar'].allowBinaries = lock.distfiles['bootstrap-seeds-99a0ee1e5449.tar'].allowBinaries.slice(0, 1);
    const narrowed = join(work.path, 'narrowed.lock');
    writeFileSync(narrowed, `${JSON.stringify(lock, null, 2)}\n`);
    const failing = await cli(['audit', '--json', '--lock', narrowed, '--distdir', store]);
    expect(failing.exitCode).toBe(1);
    expect(failing.stdout).toContain('POSIX/x86/kaem-optional-seed');
  });

  it("matches the project's distfiles.lock, which pins live-bootstrap 1.0 and all its sources", async (ctx) => {
    if (skip) ctx.skip(skip);
    const shipped = await readLock(join(projectRoot, 'distfiles.lock'));
    const imported = await readLock(lockPath);
    for (const [name, entry] of Object.entries(imported.distfiles)) expect(shipped.distfiles[name], name).toEqual(entry);
    const group = Object.keys(shipped.distfiles).filter((n) => shipped.distfiles[n]!.group === 'live-bootstrap');
    expect(group.sort()).toEqual(Object.keys(imported.distfiles).sort());
  });
});
