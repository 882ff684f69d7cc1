import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLock } from '../../../src/audit/audit-lock.js';
import { auditStage } from '../../../src/audit/audit-stage.js';
import { makeTarball } from '../../helpers/audit-archives.js';
import { flipByte, makeSyntheticRun } from '../../helpers/audit-run.js';
import { tempDir } from '../../helpers/env.js';

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('bootstrap-audit-stage-');
});
afterEach(() => tmp.remove());

const SHA512 = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;

describe('auditStage', () => {
  it('passes a seed whose digests and provenance match, and lists its packages', async () => {
    const run = await makeSyntheticRun(tmp.path, { packages: ['sys-devel/gcc-14.2.1_p20241221', 'app-shells/bash-5.2_p37'] });
    const { checks, packages } = await auditStage(run.stagePath);
    expect(checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(checks.find((c) => c.check === 'digests')!.reason).toBe('blake2b512 + sha512 match');
    expect(packages).toEqual(['app-shells/bash-5.2_p37', 'sys-devel/gcc-14.2.1_p20241221']);
  });

  it('fails a stage with var/db/pkg/dev-lang/rust-bin-1.0/ and names it', async () => {
    const run = await makeSyntheticRun(tmp.path, { packages: ['dev-lang/rust-bin-1.0', 'sys-apps/busybox-1.36.1'] });
    const { checks } = await auditStage(run.stagePath);
    const binary = checks.find((c) => c.check === 'binary-packages')!;
    expect(binary.status).toBe('fail');
    expect(binary.details).toEqual(['dev-lang/rust-bin-1.0: a -bin package (prebuilt upstream binaries)']);
  });

  it('fails a package whose vdb entry records QA_PREBUILT', async () => {
    const stage = makeTarball(join(tmp.path, 'stage3.tar'), {
      'var/db/pkg/sys-firmware/blob-1/CONTENTS': 'obj /lib/firmware/x 0 0\n',
      'var/db/pkg/sys-firmware/blob-1/QA_PREBUILT': 'lib/firmware/*\n',
      'var/db/pkg/sys-libs/zlib-1.3.1/CONTENTS': '',
    }, '.');
    const { checks, packages } = await auditStage(stage);
    expect(packages).toEqual(['sys-firmware/blob-1', 'sys-libs/zlib-1.3.1']);
    expect(checks.find((c) => c.check === 'binary-packages')!.details).toEqual([
      'sys-firmware/blob-1: its ebuild declares prebuilt files (QA_PREBUILT=lib/firmware/*)',
    ]);
    expect(checks.find((c) => c.check === 'digests')).toMatchObject({ status: 'fail', reason: 'no .DIGESTS file beside the stage to check it against' });
  });

  it('fails when the seed no longer matches its .DIGESTS and provenance subject', async () => {
    const run = await makeSyntheticRun(tmp.path);
    makeTarball(run.stagePath, { 'etc/os-release': 'NAME=swapped\n' }, '.');
    const { checks } = await auditStage(run.stagePath);
    const bad = checks.filter((c) => c.status === 'fail');
    expect(bad.map((c) => c.check)).toEqual(['digests', 'provenance-subject']);
    expect(bad[0]!.details).toHaveLength(2);
    expect(bad[1]!.reason).toMatch(/sha512 of stage3-i686-seed.tar.xz differs from the provenance subject/);
  });

  it('refuses a corrupt compressed stage as bad input, naming the decompressor', async () => {
    const run = await makeSyntheticRun(tmp.path);
    flipByte(run.stagePath, 100);
    await expect(auditStage(run.stagePath)).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/--stage .*xz/) });
  });

  it('refuses a file that is not a tarball, as bad input', async () => {
    const file = join(tmp.path, 'stage3.tar.xz');
    writeFileSync(file, 'not a tarball\n');
    await expect(auditStage(file)).rejects.toMatchObject({ code: 'EAUDITSTAGE', exitCode: 2 });
  });
});

describe('auditLock', () => {
  function writeLock(distfiles: Record<string, unknown>): string {
    const path = join(tmp.path, 'distfiles.lock');
    writeFileSync(path, JSON.stringify({ lockfileVersion: 1, distfiles }, null, 2));
    return path;
  }
  const pinned = { size: 10, integrity: SHA512, urls: ['https://example.org/a.tar.gz'], kind: 'source', from: 'test' };

  it('warns about an unpinned entry, and fails it under --strict', async () => {
    const path = writeLock({ 'a.tar.gz': pinned, 'b.tar.bz2': { size: null, integrity: null, urls: ['https://example.org/b.tar.bz2'], kind: 'source' } });
    const loose = await auditLock(path, { strict: false });
    expect(loose.checks.filter((c) => c.status !== 'pass')).toMatchObject([{ subject: 'b.tar.bz2', check: 'pinned', status: 'warn' }]);
    const strict = await auditLock(path, { strict: true });
    expect(strict.checks.filter((c) => c.status !== 'pass')).toMatchObject([{ subject: 'b.tar.bz2', check: 'pinned', status: 'fail' }]);
  });

  it('lists entries pinned on first use (a warning, a failure under --strict)', async () => {
    const path = writeLock({ 'a.tar.gz': pinned, 'c.tar.xz': { ...pinned, from: 'pinned on first use from https://example.org/c.tar.xz on 2026-11-30' } });
    const loose = await auditLock(path, { strict: false });
    expect(loose.checks.filter((c) => c.status !== 'pass')).toMatchObject([{ subject: 'c.tar.xz', check: 'pinned', status: 'warn' }]);
    expect(loose.checks.find((c) => c.subject === 'c.tar.xz' && c.status === 'warn')?.reason).toMatch(/trusted on first use/);
    const strict = await auditLock(path, { strict: true });
    expect(strict.checks.filter((c) => c.status !== 'pass')).toMatchObject([{ subject: 'c.tar.xz', check: 'pinned', status: 'fail' }]);
  });

  it('fails weak or missing hashes and a missing kind, and reports the schema problems', async () => {
    const path = writeLock({
      'sha256-only.tar.gz': { ...pinned, integrity: `sha256-${Buffer.alloc(32, 1).toString('base64')}` },
      'md5.tar.gz': { ...pinned, integrity: 'md5-XrY7u+Ae7tCTyyK7j1rNww==' },
      'nokind.tar.gz': { size: 10, integrity: SHA512, urls: ['https://example.org/n'], from: 'x' },
    });
    const { checks, entries } = await auditLock(path, { strict: false });
    const bad = checks.filter((c) => c.status === 'fail');
    expect(bad.map((c) => `${c.subject}:${c.check}`)).toEqual([`${path}:schema`, 'md5.tar.gz:integrity', 'nokind.tar.gz:kind', 'sha256-only.tar.gz:integrity']);
    expect(bad.find((c) => c.subject === 'sha256-only.tar.gz')!.reason).toMatch(/no sha512 digest/);
    expect(bad.find((c) => c.subject === 'md5.tar.gz')!.reason).toMatch(/algorithm "md5"/);
    expect(entries.size).toBe(0);
  });

  it('warns about http-only and mirror-only URLs, and lists seeds', async () => {
    const path = writeLock({
      'h.tar.gz': { ...pinned, urls: ['http://example.org/h.tar.gz'] },
      'm.tar.gz': { ...pinned, urls: ['https://distfiles.gentoo.org/distfiles/ab/m.tar.gz'] },
      'hex0-seed': { ...pinned, kind: 'seed', urls: ['https://example.org/hex0'] },
    });
    const { checks, seeds } = await auditLock(path, { strict: false });
    expect(checks.filter((c) => c.status === 'warn').map((c) => `${c.subject}:${c.reason}`)).toEqual([
      'h.tar.gz:no https URL: the download is not authenticated',
      'm.tar.gz:only distfile-mirror URLs: no upstream origin to compare the file with',
    ]);
    expect(seeds).toEqual([{ name: 'hex0-seed', integrity: SHA512, size: 10, urls: ['https://example.org/hex0'], from: 'test' }]);
  });

  it('treats an unreadable or non-JSON lock as bad input', async () => {
    await expect(auditLock(join(tmp.path, 'missing.lock'), { strict: false })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/cannot read the lock \(ENOENT\)/) });
    const path = join(tmp.path, 'broken.lock');
    writeFileSync(path, '{\n  "lockfileVersion": 1,\n  "distfiles": {,}\n}\n');
    await expect(auditLock(path, { strict: false })).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/broken\.lock:3:\d+: not valid JSON/) });
  });
});
