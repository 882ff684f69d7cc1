import { appendFileSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, journalEvents, mountsUnder } from '../../helpers/cli.js';
import { hasTool, isRoot, tempDir } from '../../helpers/env.js';
import { startTestServer, type TestServer } from '../../helpers/http-server.js';
import { makeStandinFixture, type StandinFixture } from '../../helpers/live-bootstrap-standin.js';

// Phase 0 against the stand-in rootfs.py (test/fixtures/live-bootstrap-standin): the real
// live-bootstrap builds for hours from sources out of reach here; test/real/live-bootstrap.test.ts
// runs its first stage for real.
const ready = isRoot && hasTool('git') && hasTool('python3') && hasTool('unshare');
const why = !isRoot ? 'needs root (rootfs.py -c runs in a private mount namespace)' : 'needs git, python3 and unshare';

describe.skipIf(!ready)(`live-bootstrap as phase 0 (stand-in rootfs.py)${ready ? '' : `: ${why}`}`, () => {
  let tmp: ReturnType<typeof tempDir>;
  let fx: StandinFixture;
  const run = (work: string, ...more: string[]) => cli(['run', '--recipe', fx.recipe, '--work', work, '--lock', fx.lock, '--distdir', fx.store, '--plain', ...more]);
  const log = (target: string) => readFileSync(join(target, 'standin.log'), 'utf8').trim().split('\n');

  let server: TestServer;

  beforeAll(async () => {
    tmp = tempDir('bootstrap-lb-');
    server = await startTestServer();
    fx = makeStandinFixture(join(tmp.path, 'fixture'), server);
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    tmp?.remove();
  });

  it('places the pinned tree and sources, runs rootfs.py in its own namespace, and hands its target to the next phase with the detected triplet', async () => {
    const work = join(tmp.path, 'fresh');
    const result = await run(work);
    expect(result.stderr + result.stdout).toContain('Run finished');
    expect(result.exitCode).toBe(0);
    const checkout = join(work, 'live-bootstrap/checkout');
    expect(existsSync(join(checkout, 'rootfs.py'))).toBe(true);
    expect(existsSync(join(checkout, 'seed/stage0-posix/bootstrap-seeds/POSIX/x86/hex0-seed'))).toBe(true);
    expect(readdirSync(join(checkout, 'distfiles'))).toEqual(['alpha-1.0.tar.gz']);
    const target = join(work, 'live-bootstrap/target');
    expect(log(target)).toEqual(['alpha-1.0: built alpha-1.0_0.tar.bz2', 'beta-2.0: built beta-2.0_0.tar.bz2', 'alpha-1.0: built alpha-1.0_1.tar.bz2', 'gamma-3.0: built gamma-3.0_0.tar.bz2', 'delta-4.0: built delta-4.0_0.tar.bz2']);
    // The stand-in mounted a tmpfs on target/tmp and left it: it died with the namespace.
    expect(mountsUnder(target)).toEqual([]);
    const events = journalEvents(work);
    const finished = events.filter((e) => e.type === 'step-finished');
    const lb = finished.find((e) => e.step === 'live-bootstrap') as unknown as { outcome: { distfiles: Record<string, string>; materials: Array<{ name: string; digest: { gitCommit: string } }> } };
    expect(Object.keys(lb.outcome.distfiles).sort()).toEqual(['alpha-1.0.tar.gz', 'hex0-seed', 'kaem-optional-seed']);
    expect(lb.outcome.materials.map((m) => m.digest.gitCommit).sort()).toEqual([fx.topCommit, fx.seedsCommit].sort());
    // lb_chost waited for phase 0 and was detected from its output (the default says i686).
    expect(readFileSync((finished.find((e) => e.step === 'read-target') as unknown as { log: string }).log, 'utf8')).toContain('with i386-unknown-linux-musl');

    // The provenance names live-bootstrap's commit and its seeds; the audit checks them against the lock.
    const provenance = JSON.parse(readFileSync(join(work, 'provenance.json'), 'utf8')) as {
      predicate: { buildDefinition: { internalParameters: { resolvedParameters: Record<string, string> }; resolvedDependencies: Array<{ name: string; digest: Record<string, string>; annotations: { kind: string } }> } };
    };
    expect(provenance.predicate.buildDefinition.internalParameters.resolvedParameters.lb_chost).toBe('i386-unknown-linux-musl');
    const deps = provenance.predicate.buildDefinition.resolvedDependencies;
    expect(deps.find((d) => d.annotations.kind === 'material' && d.digest.gitCommit === fx.topCommit)).toBeDefined();
    expect(deps.filter((d) => d.annotations.kind === 'distfile').map((d) => d.name).sort()).toEqual(['alpha-1.0.tar.gz', 'hex0-seed', 'kaem-optional-seed']);
    const audited = await cli(['audit', '--lock', fx.lock, '--work', work, '--target', target, '--distdir', fx.store, '--json']);
    const report = JSON.parse(audited.stdout) as { ok: boolean; checks: Array<{ section: string; subject: string; check: string; status: string; reason: string }> };
    // The lock's own section judges the sha256-only entries by the lock's rules (the lock's engineer's part).
    expect(report.checks.filter((c) => c.status === 'fail' && c.section !== 'lock')).toEqual([]);
    expect(report.checks).toContainEqual(expect.objectContaining({ subject: 'external/repo', check: 'package', status: 'pass', reason: '5 packages match SHA256SUMS.pkgs byte for byte' }));
    expect(report.checks).toContainEqual(expect.objectContaining({ subject: 'external/distfiles/alpha-1.0.tar.gz', check: 'binaries', status: 'pass' }));
    expect(report.checks).toContainEqual(expect.objectContaining({ subject: 'steps/SHA256SUMS.pkgs', check: 'pinned-sums', status: 'pass' }));
    expect(report.checks).toContainEqual(expect.objectContaining({ subject: fx.topName, check: 'material', status: 'pass' }));
  }, 120_000);

  it('sets aside a snapshot in the store that bootstrap has no record of making from the pinned commit, and fetches it again with git', async () => {
    const store = join(tmp.path, 'copied-store');
    // A copy is another file to the store's records; one snapshot is replaced outright.
    cpSync(fx.store, store, { recursive: true });
    copyFileSync(join(store, fx.seedsName), join(store, fx.topName));
    const before = server.requests.filter((r) => r.path.startsWith('/live-bootstrap.git/')).length;
    const work = join(tmp.path, 'copied');
    const result = await cli(['run', '--recipe', fx.recipe, '--work', work, '--lock', fx.lock, '--distdir', store, '--plain']);
    expect(result.exitCode).toBe(0);
    expect(server.requests.filter((r) => r.path.startsWith('/live-bootstrap.git/')).length).toBeGreaterThan(before);
    expect(readdirSync(join(store, '.bad')).some((n) => n.startsWith(`${fx.topName}.bad-`))).toBe(true);
    expect(existsSync(join(work, 'live-bootstrap/checkout/rootfs.py'))).toBe(true);
  }, 120_000);

  it('audit --target fails a package that is not what SHA256SUMS.pkgs says and a source the lock does not pin', async () => {
    const target = join(tmp.path, 'audited');
    cpSync(join(tmp.path, 'fresh/live-bootstrap/target'), target, { recursive: true });
    appendFileSync(join(target, 'external/repo/gamma-3.0_0.tar.bz2'), 'x');
    writeFileSync(join(target, 'external/distfiles/extra.tar.gz'), 'not pinned');
    const audited = await cli(['audit', '--lock', fx.lock, '--target', target, '--distdir', fx.store, '--json']);
    expect(audited.exitCode).toBe(1);
    const failed = (JSON.parse(audited.stdout) as { checks: Array<{ section: string; subject: string; status: string; reason: string }> }).checks.filter((c) => c.status === 'fail' && c.section === 'target');
    expect(failed.map((c) => `${c.subject}: ${c.reason}`).sort()).toEqual([
      'external/distfiles/extra.tar.gz: not in ' + fx.lock + ': a source live-bootstrap used that the lock does not pin',
      'external/repo/gamma-3.0_0.tar.bz2: not reproduced: its sha256 differs from SHA256SUMS.pkgs',
    ]);
  }, 60_000);

  it('after a failure inside live-bootstrap, resume installs the packages already built (those SHA256SUMS.pkgs vouches for) and builds only what failed and what follows', async () => {
    const work = join(tmp.path, 'resume');
    mkdirSync(join(work, 'live-bootstrap'), { recursive: true });
    writeFileSync(join(work, 'live-bootstrap/standin-fail-at'), 'gamma-3.0\n');
    const failed = await run(work);
    expect(failed.exitCode).toBe(1);
    const target = join(work, 'live-bootstrap/target');
    expect(log(target).at(-1)).toBe('gamma-3.0: build failed (standin-fail-at)');
    expect(failed.stderr + failed.stdout).toContain('live-bootstrap built 3 packages');
    // One kept package is damaged: it must not be installed, but built again.
    appendFileSync(join(target, 'external/repo/beta-2.0_0.tar.bz2'), 'x');
    writeFileSync(join(work, 'live-bootstrap/standin-fail-at'), 'none\n');
    // A tree half placed by an attempt killed while placing it.
    mkdirSync(join(work, 'live-bootstrap/.checkout.999999.0123456789ab.tmp/steps'), { recursive: true });

    const resumed = await cli(['resume', '--work', work, '--plain']);
    expect(resumed.exitCode).toBe(0);
    expect(log(target)).toEqual([
      'alpha-1.0: installing prebuilt package alpha-1.0_0.tar.bz2',
      'beta-2.0: built beta-2.0_0.tar.bz2',
      'alpha-1.0: installing prebuilt package alpha-1.0_1.tar.bz2',
      'gamma-3.0: built gamma-3.0_0.tar.bz2',
      'delta-4.0: built delta-4.0_0.tar.bz2',
    ]);
    const attempt2 = journalEvents(work).filter((e) => e.type === 'step-finished' && e.step === 'live-bootstrap')[0] as unknown as { log: string };
    const text = readFileSync(attempt2.log, 'utf8');
    expect(text).toMatch(/not kept: beta-2\.0_0\.tar\.bz2 \(sha256 [0-9a-f]{64}, SHA256SUMS\.pkgs says/);
    expect(text).toContain('--repo');
    expect(readdirSync(join(work, 'live-bootstrap')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(mountsUnder(target)).toEqual([]);
  }, 180_000);

  it('leaves phase 0 out when --target names an existing live-bootstrap output', async () => {
    const work = join(tmp.path, 'given');
    const target = join(tmp.path, 'fresh/live-bootstrap/target');
    const plan = await cli(['plan', '--recipe', fx.recipe, '--work', work, '--lock', fx.lock, '--target', target]);
    expect(plan.stdout).toContain(`live-bootstrap: left out, target is given (${target})`);
    const result = await run(work, '--target', target);
    expect(result.exitCode).toBe(0);
    expect(journalEvents(work).filter((e) => e.type === 'step-finished').map((e) => e.step)).toEqual(['read-target']);
  }, 60_000);

  it('refuses a target it did not make, naming --target as the way to start from it', async () => {
    const work = join(tmp.path, 'foreign');
    mkdirSync(join(work, 'live-bootstrap/target/steps'), { recursive: true });
    const result = await run(work);
    expect(result.exitCode).toBe(1);
    expect(result.stderr + result.stdout).toContain('exists and was not made by this step');
  }, 60_000);
});
