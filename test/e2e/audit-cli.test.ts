import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync, truncateSync, statSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTarball, peHeader, arArchive } from '../helpers/audit-archives.js';
import { flipByte, makeSyntheticRun, sri } from '../helpers/audit-run.js';
import { cli } from '../helpers/cli.js';
import { needsTool, tempDir } from '../helpers/env.js';

let tmp: { path: string; remove: () => void };
const anyDirectory = () => join(tmp.path, 'distfiles');
let distdir: string;
beforeEach(() => {
  tmp = tempDir('bootstrap-audit-e2e-');
  distdir = join(tmp.path, 'distfiles');
  mkdirSync(distdir);
});
afterEach(() => tmp.remove());

const SOURCE = { 'configure.ac': 'AC_INIT([pkg], [1.0])\n', 'src/main.c': 'int main(void) { return 0; }\n' };

/** Puts archives into the distdir and writes a lock pinning exactly their bytes. */
function lockFor(files: Record<string, { extra?: Record<string, unknown>; pinned?: boolean }>): string {
  const distfiles: Record<string, unknown> = {};
  for (const [name, options] of Object.entries(files)) {
    const bytes = readFileSync(join(distdir, name));
    distfiles[name] = options.pinned === false
      ? { size: null, integrity: null, urls: [`https://example.org/${name}`], kind: 'source' }
      : { size: bytes.length, integrity: sri(bytes), urls: [`https://example.org/${name}`], kind: 'source', from: 'built by the test', ...options.extra };
  }
  const path = join(tmp.path, 'distfiles.lock');
  writeFileSync(path, `${JSON.stringify({ lockfileVersion: 1, distfiles }, null, 2)}\n`);
  return path;
}

describe('bootstrap audit --distdir', () => {
  it('passes a clean source tarball (exit 0)', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), SOURCE);
    const result = await cli(['audit', '--lock', lockFor({ 'pkg-1.0.tar.gz': {} }), '--distdir', distdir, '--verbose']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('pass  pkg-1.0.tar.gz  binaries: no prebuilt binaries (tar+gzip, 2 members scanned)');
    expect(result.stdout).toMatch(/audit passed: \d+ passed, 0 warnings, 0 failed/);
  });

  it('fails a tarball with a copy of /bin/true and names the member (exit 1)', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.xz'), { ...SOURCE, 'build-aux/true': { copyOf: '/bin/true' } });
    const result = await cli(['audit', '--lock', lockFor({ 'pkg-1.0.tar.xz': {} }), '--distdir', distdir]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('FAIL  pkg-1.0.tar.xz  binaries: 1 prebuilt binary not in the entry\'s allowBinaries');
    expect(result.stdout).toMatch(new RegExp(`pkg-1\\.0/build-aux/true: ELF 64-bit .*, ${statSync('/bin/true').size} bytes`));
  });

  it('reports PE, ar and nested findings in JSON with archive, member, type and size', async () => {
    const inner = makeTarball(join(tmp.path, 'vendored-0.1.tar.gz'), { 'lib/libv.a': arArchive() }, 'vendored-0.1');
    makeTarball(join(distdir, 'pkg-1.0.tar.bz2'), { ...SOURCE, 'win/setup.exe': peHeader(), 'third_party/vendored-0.1.tar.gz': readFileSync(inner) });
    const result = await cli(['audit', '--lock', lockFor({ 'pkg-1.0.tar.bz2': {} }), '--distdir', distdir, '--json']);
    expect(result.exitCode).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.ok).toBe(false);
    const rows = doc.findings.map((f: Record<string, unknown>) => [f.archive, f.member, f.kind, f.size, f.status]);
    rows.sort((a: string[], b: string[]) => a[1]!.localeCompare(b[1]!));
    expect(rows).toEqual([
      ['pkg-1.0.tar.bz2', 'pkg-1.0/third_party/vendored-0.1.tar.gz!vendored-0.1/lib/libv.a', 'ar', arArchive().length, 'fail'],
      ['pkg-1.0.tar.bz2', 'pkg-1.0/win/setup.exe', 'pe', peHeader().length, 'fail'],
    ]);
  });

  it('turns an allow-listed binary into a justified warning (exit 0)', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), { ...SOURCE, 'tests/data/true.elf': { copyOf: '/bin/true' } });
    const lock = lockFor({ 'pkg-1.0.tar.gz': { extra: { allowBinaries: [{ pattern: 'pkg-1.0/tests/data/*.elf', reason: 'test input for the ELF reader; never installed' }] } } });
    const result = await cli(['audit', '--lock', lock, '--distdir', distdir]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('WARN  pkg-1.0.tar.gz  binaries: 1 prebuilt binary allowed with a reason');
    expect(result.stdout).toContain('(allowed by "pkg-1.0/tests/data/*.elf": test input for the ELF reader; never installed)');
    expect(result.stdout).toMatch(/audit passed with warnings/);
  });

  it('stops with a one-line reason (exit 2) on a corrupted archive', async () => {
    const archive = makeTarball(join(distdir, 'pkg-1.0.tar.gz'), { ...SOURCE, 'big.txt': `${'z'.repeat(500_000)}${Math.random()}` });
    truncateSync(archive, statSync(archive).size - 64);
    const result = await cli(['audit', '--lock', lockFor({ 'pkg-1.0.tar.gz': {} }), '--distdir', distdir]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    const [first] = result.stderr.split('\n');
    expect(first).toMatch(new RegExp(`^error: ${archive.replace(/[.]/g, '\\.')}: gzip: unexpected end of file`));
  });

  it('fails a file whose bytes differ from the lock, without scanning it', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), SOURCE);
    const lock = lockFor({ 'pkg-1.0.tar.gz': {} });
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), { ...SOURCE, 'x/true': { copyOf: '/bin/true' } });
    const result = await cli(['audit', '--lock', lock, '--distdir', distdir]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/FAIL {2}pkg-1\.0\.tar\.gz {2}matches-lock: (size \d+ bytes, the lock says \d+|sha512 and blake2b512 digest differs from the lock); not scanned/);
    expect(result.stdout).not.toContain('binaries');
  });

  it('exits 2 for a missing --distdir', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), SOURCE);
    const result = await cli(['audit', '--lock', lockFor({ 'pkg-1.0.tar.gz': {} }), '--distdir', join(tmp.path, 'nope')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: --distdir .*nope: no such directory/);
  });
});

describe('bootstrap audit --scan', () => {
  it('skips a squashfs image with a stated reason when unsquashfs is missing, and fails that under --strict', async (ctx) => {
    needsTool(ctx, 'mksquashfs', 'squashfs-tools');
    const src = join(tmp.path, 'repo');
    mkdirSync(join(src, 'profiles'), { recursive: true });
    writeFileSync(join(src, 'profiles/repo_name'), 'gentoo\n');
    const image = join(tmp.path, 'gentoo-20250101.xz.sqfs');
    execFileSync('mksquashfs', [src, image, '-quiet', '-noappend', '-no-progress']);
    const withTool = await cli(['audit', '--scan', image], { cwd: tmp.path });
    expect(withTool.exitCode).toBe(0);
    expect(withTool.stdout).toContain('audit passed: 1 passed');
    // A PATH with mkfifo but without unsquashfs.
    const bin = join(tmp.path, 'bin');
    mkdirSync(bin);
    symlinkSync(execFileSync('sh', ['-c', 'command -v mkfifo']).toString().trim(), join(bin, 'mkfifo'));
    const without = await cli(['audit', '--scan', image], { env: { PATH: bin }, cwd: tmp.path });
    expect(without.exitCode).toBe(0);
    expect(without.stdout).toContain('WARN  ' + image + '  scan-coverage: not scanned: unsquashfs is not installed (Debian package squashfs-tools)');
    const strict = await cli(['audit', '--scan', image, '--strict'], { env: { PATH: bin }, cwd: tmp.path });
    expect(strict.exitCode).toBe(1);
    // An unsquashfs older than 4.5 answers -pf with its usage text.
    writeFileSync(join(bin, 'unsquashfs'), '#!/bin/sh\necho "SYNTAX: unsquashfs [OPTIONS] FILESYSTEM" >&2\nexit 1\n', { mode: 0o755 });
    symlinkSync('/bin/sh', join(bin, 'sh'));
    const old = await cli(['audit', '--scan', image], { env: { PATH: bin }, cwd: tmp.path });
    expect(old.exitCode).toBe(0);
    expect(old.stdout).toContain('not scanned: unsquashfs is too old to stream an image (-pf needs squashfs-tools 4.5 or later)');
  });
});

describe('bootstrap audit --lock', () => {
  it('warns about an unpinned entry (exit 0) and fails it under --strict (exit 1)', async () => {
    makeTarball(join(distdir, 'pkg-1.0.tar.gz'), SOURCE);
    makeTarball(join(distdir, 'portage-3.0.66.1.tar.bz2'), SOURCE, 'portage-3.0.66.1');
    const lock = lockFor({ 'pkg-1.0.tar.gz': {}, 'portage-3.0.66.1.tar.bz2': { pinned: false } });
    const loose = await cli(['audit', '--lock', lock]);
    expect(loose.exitCode).toBe(0);
    expect(loose.stdout).toContain('WARN  portage-3.0.66.1.tar.bz2  pinned: unpinned');
    const strict = await cli(['audit', '--lock', lock, '--strict']);
    expect(strict.exitCode).toBe(1);
    expect(strict.stdout).toContain('FAIL  portage-3.0.66.1.tar.bz2  pinned: unpinned');
  });

  it('lists declared seeds first, and exits 2 on an unreadable lock', async () => {
    const lock = join(tmp.path, 'seeds.lock');
    const seed = { size: 229, integrity: sri(Buffer.from('hex0')), urls: ['https://example.org/hex0-seed'], kind: 'seed', from: 'stage0-posix' };
    writeFileSync(lock, JSON.stringify({ lockfileVersion: 1, distfiles: { 'hex0-seed': seed } }));
    const result = await cli(['audit', '--lock', lock]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['Binary seeds this chain trusts:', `  hex0-seed  ${seed.integrity}  229 bytes`]);
    const missing = await cli(['audit', '--lock', join(tmp.path, 'missing.lock')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.split('\n')[0]).toMatch(/^error: .*missing\.lock: cannot read the lock \(ENOENT\)$/);
  });
});

describe('bootstrap audit --work / --stage', () => {
  it('verifies a run and its provenance, and fails with the reason when one byte of the seed or journal changes', async () => {
    const run = await makeSyntheticRun(tmp.path);
    const ok = await cli(['audit', '--lock', run.lockPath, '--work', run.workDir, '--stage', run.stagePath]);
    expect(ok.stderr).toBe('');
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain('Packages in the stage (1):\n  sys-apps/busybox-1.36.1');

    const journal = readFileSync(run.journalPath);
    // A byte of a value (the run id): a changed key would already fail the journal's schema.
    flipByte(run.journalPath, journal.indexOf('"runId":"') + 9);
    const edited = await cli(['audit', '--lock', run.lockPath, '--work', run.workDir]);
    expect(edited.exitCode).toBe(1);
    expect(edited.stdout).toMatch(/FAIL {2}\S+journal\.jsonl {2}journal-digest: the journal's first \d+ bytes differ from when the provenance was written/);
    writeFileSync(run.journalPath, journal);

    flipByte(run.stagePath, statSync(run.stagePath).size - 3);
    const seed = await cli(['audit', '--lock', run.lockPath, '--work', run.workDir, '--json']);
    expect(seed.exitCode).toBe(1);
    const failed = JSON.parse(seed.stdout).checks.filter((c: { status: string }) => c.status === 'fail');
    expect(failed).toMatchObject([{ section: 'provenance', check: 'subject', subject: 'stage3-i686-seed.tar.xz' }]);
  });

  it('fails the stage check for var/db/pkg/dev-lang/rust-bin-1.0/', async () => {
    const run = await makeSyntheticRun(tmp.path, { packages: ['dev-lang/rust-bin-1.0', 'sys-devel/gcc-14.2.1_p20241221'] });
    const result = await cli(['audit', '--stage', run.stagePath, '--lock', run.lockPath]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain('FAIL  stage3-i686-seed.tar.xz  binary-packages: 1 binary-distribution package in var/db/pkg');
    expect(result.stdout).toContain('dev-lang/rust-bin-1.0: a -bin package (prebuilt upstream binaries)');
    expect(result.stdout).toContain('Packages in the stage (2):\n  dev-lang/rust-bin-1.0\n  sys-devel/gcc-14.2.1_p20241221');
  });

  it('verifies a provenance document on its own against the seed beside it and the lock', async () => {
    const run = await makeSyntheticRun(tmp.path);
    const ok = await cli(['audit', '--lock', run.lockPath, '--provenance', run.provenancePath, '--json']);
    expect(ok.exitCode).toBe(0);
    const checks = JSON.parse(ok.stdout).checks.filter((c: { section: string }) => c.section === 'provenance');
    expect(checks.map((c: { check: string; status: string }) => `${c.check}:${c.status}`)).toEqual([
      'document:pass', 'subject:pass', 'starting-point:pass', 'distfile:pass',
    ]);
    const bad = await cli(['audit', '--provenance', run.provenancePath, '--stage', run.lockPath], { cwd: tmp.path });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^error: --stage .*distfiles\.lock: not a tarball/);
  });

  it('refuses a negative --max-depth as bad input', async () => {
    const result = await cli(['audit', '--max-depth', '-1', '--scan', anyDirectory()]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: --max-depth -1: expected a whole number/);
  });

  it('exits 2 when --stage is not a tarball', async () => {
    const file = join(tmp.path, 'stage3.tar.xz');
    writeFileSync(file, 'text\n');
    const result = await cli(['audit', '--stage', file]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')[0]).toMatch(/^error: --stage .*stage3\.tar\.xz: not a tarball/);
  });
});
