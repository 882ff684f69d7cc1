import { createHash } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditPkgdir } from '../../../src/audit/audit-pkgdir.js';
import { writePkgdir } from '../../helpers/binpkgs.js';
import { cli } from '../../helpers/cli.js';
import { tempDir } from '../../helpers/env.js';

/**
 * Binary packages tied to the run that built them: the journal's emerge attempts (the current
 * run and one a --fresh run kept) against each package's BUILD_TIME, preferring the attempt
 * whose log names it. The journal and index are written by the test; the real tier audits a
 * PKGDIR real Portage wrote (test/real/binhost.test.ts).
 */

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

const T0 = Date.parse('2026-11-30T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const hex = (a: string, b: Buffer) => createHash(a).update(b).digest('hex');

function journal(runId: string, attempts: Array<{ step: string; start: number; end: number; log: string; failed?: boolean }>, finished: boolean): string {
  const events: object[] = [
    { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: iso(attempts[0]!.start - 5000), runId, recipe: { name: 'r', version: '1', path: '/r.yaml', digest: 'd' }, params: {}, given: {}, steps: attempts.map((a) => a.step) },
  ];
  for (const a of attempts) {
    events.push({ type: 'step-started', time: iso(a.start), step: a.step, attempt: 1, fingerprint: `sha256:${a.step.padEnd(64, '0')}`, log: a.log });
    events.push(
      a.failed
        ? { type: 'step-failed', time: iso(a.end), step: a.step, attempt: 1, fingerprint: `sha256:${a.step.padEnd(64, '0')}`, log: a.log, durationMs: a.end - a.start, exitCode: 1, message: 'x', tail: [] }
        : { type: 'step-finished', time: iso(a.end), step: a.step, attempt: 1, fingerprint: `sha256:${'a'.repeat(64)}`, log: a.log, durationMs: a.end - a.start, logDigest: 'x', outcome: {}, inputs: { script: '0123456789abcdef' } },
    );
  }
  if (finished) events.push({ type: 'run-finished', time: iso(attempts.at(-1)!.end + 1000), documents: ['/work/provenance.json'] });
  return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
}

function setup(): { work: string; pkgdir: string } {
  const dir = tempDir('bootstrap-audit-pkgdir-');
  dirs.push(dir);
  const work = join(dir.path, 'work');
  const pkgdir = join(dir.path, 'binpkgs');
  mkdirSync(join(work, 'logs'), { recursive: true });
  const log = (name: string, text: string) => {
    writeFileSync(join(work, 'logs', name), text);
    return join(work, 'logs', name);
  };
  // The current run: two emerge steps back to back. An older run (kept by --fresh) built findutils.
  const a = log('a.log', '>>> Emerging (1 of 1) app-arch/bzip2-1.0.8-r5::gentoo\n');
  const b = log('b.log', '>>> Emerging (1 of 1) dev-build/autoconf-2.72-r1::gentoo\n');
  const old = log('old.log', '>>> Emerging (1 of 1) sys-apps/findutils-4.10.0::gentoo\n');
  writeFileSync(join(work, 'journal.jsonl'), journal('run-new', [
    { step: 'emerge-bzip2', start: T0, end: T0 + 60_000, log: a },
    { step: 'emerge-autoconf', start: T0 + 60_000, end: T0 + 120_000, log: b },
  ], false));
  writeFileSync(join(work, 'journal.2026-11-29T10-00-00-000Z.jsonl'), journal('run-old', [{ step: 'emerge-findutils', start: T0 - 86_400_000, end: T0 - 86_000_000, log: old }], true));

  let index = 'CHOST: i386-unknown-linux-musl\nPACKAGES: 4\nVERSION: 0\n\n';
  const add = (cpv: string, buildTime: number) => {
    const [cat, pf] = cpv.split('/') as [string, string];
    const path = `${cat}/${pf}-1.gpkg.tar`;
    const bytes = Buffer.from(`bytes of ${cpv}`);
    mkdirSync(join(pkgdir, cat), { recursive: true });
    writeFileSync(join(pkgdir, path), bytes);
    index += `BUILD_TIME: ${Math.floor(buildTime / 1000)}\nCPV: ${cpv}\nMD5: ${hex('md5', bytes)}\nPATH: ${path}\nSHA1: ${hex('sha1', bytes)}\nSIZE: ${bytes.length}\n\n`;
  };
  // autoconf's BUILD_TIME falls in the second both steps touch: its log decides.
  add('app-arch/bzip2-1.0.8-r5', T0 + 30_000);
  add('dev-build/autoconf-2.72-r1', T0 + 60_000);
  add('sys-apps/findutils-4.10.0', T0 - 86_200_000);
  add('sys-apps/grep-3.11', T0 + 500_000);
  writeFileSync(join(pkgdir, 'Packages'), index);
  return { work, pkgdir };
}

describe('audit of a PKGDIR', () => {
  it('ties each package to the run and step attempt that built it, and reports one no run built', async () => {
    const { work, pkgdir } = setup();
    const { checks, packages } = await auditPkgdir(pkgdir, { workDir: work, strict: false });
    const by = Object.fromEntries(packages.map((p) => [p.cpv, p.producedBy && `${p.producedBy.runId} ${p.producedBy.step}`]));
    expect(by).toEqual({
      'app-arch/bzip2-1.0.8-r5': 'run-new emerge-bzip2',
      'dev-build/autoconf-2.72-r1': 'run-new emerge-autoconf',
      'sys-apps/findutils-4.10.0': 'run-old emerge-findutils',
      'sys-apps/grep-3.11': undefined,
    });
    expect(packages[0]!.digests.SHA512).toMatch(/^[0-9a-f]{128}$/);
    const provenance = checks.filter((c) => c.check === 'binpkg-provenance');
    expect(provenance.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'warn']);
    expect(provenance[2]!.details).toContain('provenance: /work/provenance.json');
    expect(provenance[0]!.details).toContain('input script: 0123456789abcdef');
    expect(provenance[3]!.reason).toMatch(/^no run in .* built it \(BUILD_TIME 2026-11-30T10:08:20\.000Z is in no emerge attempt\)/);
    expect((await auditPkgdir(pkgdir, { workDir: work, strict: true })).checks.at(-1)!.status).toBe('fail');
  });

  it('bootstrap audit --pkgdir fails on a package whose bytes differ from the index, naming it', async () => {
    const { work, pkgdir } = setup();
    writeFileSync(join(pkgdir, 'app-arch/bzip2-1.0.8-r5-1.gpkg.tar'), 'other bytes of the same length!!');
    // No lock where it runs: the lock checks are skipped.
    const result = await cli(['audit', '--pkgdir', pkgdir, '--json'], { cwd: work });
    const report = JSON.parse(result.stdout) as { checks: Array<{ subject: string; check: string; status: string; reason: string }> };
    const failed = report.checks.filter((c) => c.check === 'binpkg-index' && c.status === 'fail');
    expect(failed.map((c) => c.subject)).toEqual([`${pkgdir}: app-arch/bzip2-1.0.8-r5`]);
    expect(failed[0]!.reason).toMatch(/^app-arch\/bzip2-1\.0\.8-r5-1\.gpkg\.tar does not match the Packages index: MD5 [0-9a-f]{32}, the index says [0-9a-f]{32}; SHA1/);
    expect(result.exitCode).toBe(1);
  });

  it("ties a package to an attempt whose bootstrap was killed, up to its log's last write", async () => {
    const dir = tempDir('bootstrap-audit-pkgdir-');
    dirs.push(dir);
    const work = join(dir.path, 'work');
    const pkgdir = join(dir.path, 'binpkgs');
    mkdirSync(join(work, 'logs'), { recursive: true });
    writePkgdir(pkgdir, [{ cpv: 'app-arch/bzip2-1.0.8-r5', bytes: Buffer.from('bzip2') }]);
    const built = 1796081024_000; // the BUILD_TIME writePkgdir stamps
    const log = join(work, 'logs', 'emerge-1.log');
    writeFileSync(log, '>>> Emerging (1 of 1) app-arch/bzip2-1.0.8-r5::gentoo\n');
    const step = { step: 'emerge-bzip2', fingerprint: `sha256:${'b'.repeat(64)}` };
    // Attempt 1 has no end: its bootstrap was killed, and a resume ran attempt 2 later.
    const events = [
      { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: iso(built - 200_000), runId: 'run-killed', recipe: { name: 'r', version: '1', path: '/r.yaml', digest: 'd' }, params: {}, given: {}, steps: ['emerge-bzip2'] },
      { type: 'step-started', time: iso(built - 100_000), attempt: 1, log, ...step },
      { type: 'run-resumed', time: iso(built + 600_000), from: 'emerge-bzip2', given: {}, steps: ['emerge-bzip2'] },
      { type: 'step-started', time: iso(built + 601_000), attempt: 2, log: join(work, 'logs', 'emerge-2.log'), ...step },
      { type: 'step-finished', time: iso(built + 700_000), attempt: 2, log: join(work, 'logs', 'emerge-2.log'), durationMs: 99_000, logDigest: 'x', outcome: {}, ...step },
    ];
    writeFileSync(join(work, 'journal.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const producer = async () => (await auditPkgdir(pkgdir, { workDir: work, strict: false })).packages[0]!.producedBy;
    utimesSync(log, new Date(built + 50_000), new Date(built + 50_000));
    expect(await producer()).toMatchObject({ runId: 'run-killed', step: 'emerge-bzip2', attempt: 1 });
    // The log stopped before Portage stamped the package: no attempt of this run was building then.
    utimesSync(log, new Date(built - 50_000), new Date(built - 50_000));
    expect(await producer()).toBeUndefined();
  });
});
