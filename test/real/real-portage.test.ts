import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { hasTool, projectRoot, tempDir } from '../helpers/env.js';
import { startTestServer, type TestServer } from '../helpers/http-server.js';
import { DISTFILES, PLACED, SNAPSHOT, realTierSkipReason, standinTarget, testLock } from '../helpers/real-tier.js';

/**
 * The real tier: the gentoo-2025 recipe against real Portage 3.0.66.1, a real Gentoo tree
 * (test/real/README.md) and real upstream tarballs, in the stand-in for live-bootstrap output
 * (docs/standin-root.md). Nothing here is a recording script: every emerge is Portage's.
 */

// Real builds on two cores that the rest of the suite shares.
const REAL_TIMEOUT = 900_000;
/** Not in the run's lock: the sealed fetch command refuses it, then --record fetches it. */
const RECORDED = 'autoconf-2.72.tar.xz';
const expected = JSON.parse(readFileSync(join(projectRoot, 'test/real/expected-resolutions.json'), 'utf8')) as Record<string, string[]>;

let skipReason: string | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
let target = '';
let lock = '';
let server: TestServer | undefined;

beforeAll(async () => {
  skipReason = realTierSkipReason([RECORDED]);
  if (skipReason) return;
  dir = tempDir('bootstrap-real-');
  ({ target, lock } = standinTarget(dir.path));
  server = await startTestServer();
  server.route(`/distfiles/${RECORDED}`, readFileSync(join(DISTFILES, RECORDED)));
}, 900_000);

afterAll(async () => {
  await server?.close();
  // rm, not Node's rmSync: a Portage build tree can nest deeper than PATH_MAX allows one path.
  if (dir) execFileSync('rm', ['-rf', '--one-file-system', '--', dir.path]);
});

const common = () => ['--lock', lock, '--mirror', DISTFILES, '--target', target, '--set', `snapshot=${SNAPSHOT}`, '--plain'];

describe('gentoo-2025 with real Portage, a real Gentoo tree and real distfiles', () => {
  it('preflight: setup runs in an overlay and real emerge --pretend resolves every emerge step of local-deps, cross-tools and cross-system', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const work = join(dir!.path, 'preflight-work');
    const result = await cli(['preflight', ...common(), '--work', work, '--json']);
    expect(result.exitCode, result.stderr.slice(-3000)).toBe(0);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    const asked = Object.fromEntries(
      (report.steps as Array<{ step: string; result?: { would: string[] } }>).filter((s) => s.result).map((s) => [s.step, [...s.result!.would].sort()]),
    );
    // Sets: independent packages may swap places between runs.
    expect(asked).toEqual(expected);
    expect(report.stoppedBefore.step).toBe('gentoo-etc');
    // The guide's Python one-liner ran with real Portage on the real profile and agreed.
    const check = report.steps.find((s: { step: string }) => s.step === 'check-packages-build');
    expect(readFileSync(check.log, 'utf8')).toMatch(/Portage agrees: 35 atoms/);
    // Nothing of it reached the target.
    expect(existsSync(join(target, 'var/db/repos/gentoo'))).toBe(false);
    expect(existsSync(join(target, 'etc/portage'))).toBe(false);
  }, REAL_TIMEOUT);

  it('run: the recipe steps from check-target through python-targets run for real', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const work = join(dir!.path, 'run-work');
    const result = await cli(['run', ...common(), '--work', work, '--until', 'python-targets']);
    expect(result.exitCode, result.stderr.slice(-3000)).toBe(0);
    // squashfs-tools 4.6.1 built from its real tarball, and the real snapshot unpacked with it.
    expect(spawnSync('chroot', [target, '/usr/bin/unsquashfs', '-version'], { encoding: 'utf8' }).stdout).toMatch(/unsquashfs version 4\.6\.1/);
    expect(readFileSync(join(target, 'var/db/repos/gentoo/profiles/repo_name'), 'utf8').trim()).toBe('gentoo');
    expect(existsSync(join(target, 'var/tmp/bootstrap/portage/bin/emerge'))).toBe(true);
    expect(readFileSync(join(target, 'etc/portage/make.profile/make.defaults'), 'utf8')).toMatch(/^PYTHON_TARGETS="python3_12"$/m);
    for (const name of PLACED) expect(existsSync(join(target, 'var/cache/distfiles', name)), name).toBe(true);
  }, REAL_TIMEOUT);

  it('builds: bzip2 and findutils emerge for real; a distfile outside the lock is refused, then --record fetches it and resume finishes', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const work = join(dir!.path, 'builds-work');
    const recipe = join(projectRoot, 'test/fixtures/real-builds/recipe.yaml');
    const mirror = `gentoo_mirrors=${server!.url}`;
    const sealed = await cli(['run', '--recipe', recipe, '--lock', lock, '--target', target, '--set', mirror, '--work', work, '--until', 'emerge-autoconf', '--plain']);
    expect(sealed.exitCode, sealed.stderr.slice(-3000)).toBe(1);
    expect(sealed.stderr).toMatch(/step emerge-autoconf failed/);
    expect(sealed.stderr).toContain(`${RECORDED} is not in distfiles.lock`);
    // The tail of the package's own log, where failure_logs finds it.
    expect(sealed.stderr).toMatch(/last lines of .*\/var\/tmp\/bootstrap\/portage-logs\/dev-build:autoconf-2\.72-r1:\d{8}-\d{6}\.log/);

    for (const pkg of ['app-arch/bzip2-1.0.8-r5', 'sys-apps/findutils-4.10.0']) {
      expect(readFileSync(join(target, 'var/db/pkg', pkg, 'repository'), 'utf8').trim()).toBe('gentoo');
      const [cat, pf] = pkg.split('/') as [string, string];
      const binpkgs = readdirSync(join(target, 'var/cache/binpkgs/lb', cat), { recursive: true }).map(String);
      expect(binpkgs.some((f) => f.includes(pf)), `${pkg} in PKGDIR: ${binpkgs.join(', ')}`).toBe(true);
      expect(readdirSync(join(target, 'var/tmp/bootstrap/portage-logs')).some((f) => f.startsWith(`${cat}:${pf}:`))).toBe(true);
    }
    expect(execFileSync('chroot', [target, '/usr/bin/find', '--version'], { encoding: 'utf8' })).toMatch(/find \(GNU findutils\) 4\.10\.0/);

    const recorded = await cli(['resume', '--work', work, '--record', '--until', 'emerge-autoconf', '--plain']);
    expect(recorded.exitCode, recorded.stderr.slice(-3000)).toBe(0);
    expect(server!.requests.map((r) => r.path)).toContain(`/distfiles/${RECORDED}`);
    const entry = (JSON.parse(readFileSync(lock, 'utf8')) as typeof testLock).distfiles[RECORDED]!;
    expect(entry.from).toBe('recorded during emerge-autoconf');
    expect(entry.size).toBe(testLock.distfiles[RECORDED]!.size);
    expect(entry.integrity.split(' ')[0]).toBe(testLock.distfiles[RECORDED]!.integrity.split(' ')[0]);
    expect(existsSync(join(target, 'var/db/pkg/dev-build/autoconf-2.72-r1'))).toBe(true);

    // bootstrap report reads the real emerge.log this run left: every package under its step's
    // attempt, the sealed attempt failed, and a picture a real renderer draws.
    const report = await cli(['report', '--work', work, '--json']);
    expect(report.exitCode, report.stderr).toBe(0);
    const data = JSON.parse(report.stdout) as { phases: Array<{ steps: Array<{ id: string; attempts: Array<{ status: string; packages: Array<{ name: string; status: string; durationMs: number }> }> }> }> };
    const steps = Object.fromEntries(data.phases.flatMap((p) => p.steps).map((step) => [step.id, step.attempts]));
    const merged = (id: string) => steps[id]!.flatMap((a) => a.packages).filter((p) => p.status === 'done').map((p) => p.name);
    expect(merged('emerge-bzip2-findutils').sort()).toEqual(['app-arch/bzip2-1.0.8-r5', 'sys-apps/findutils-4.10.0']);
    expect(steps['emerge-autoconf']!.map((a) => a.status)).toEqual(['failed', 'done']);
    // The sealed attempt's autoconf, logged in the second the previous step ended, is its own.
    expect(steps['emerge-autoconf']![0]!.packages.map((p) => `${p.name} ${p.status}`)).toEqual(['dev-build/autoconf-2.72-r1 failed']);
    expect(steps['emerge-bzip2-findutils']!.flatMap((a) => a.packages).map((p) => p.name).sort()).toEqual(['app-arch/bzip2-1.0.8-r5', 'sys-apps/findutils-4.10.0']);
    expect(merged('emerge-autoconf')).toEqual(['dev-build/autoconf-2.72-r1']);
    expect(steps['emerge-bzip2-findutils']![0]!.packages.every((p) => p.durationMs > 0)).toBe(true);
    const svg = join(dir!.path, 'real-run.svg');
    expect((await cli(['report', '--work', work, '--out', svg])).exitCode).toBe(0);
    if (hasTool('rsvg-convert')) expect(spawnSync('rsvg-convert', ['-o', join(dir!.path, 'real-run.png'), svg], { encoding: 'utf8' }).stderr).toBe('');
    // Kept for docs/report.md's picture of a real run, when asked.
    if (process.env.BOOTSTRAP_KEEP_REAL_REPORT) cpSync(svg, process.env.BOOTSTRAP_KEEP_REAL_REPORT);
  }, REAL_TIMEOUT);

  it("preflight: real Portage's answers for a masked atom and a missing one are read and classified", async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const recipe = join(projectRoot, 'test/fixtures/real-builds/recipe.yaml');
    const result = await cli(['preflight', '--recipe', recipe, '--lock', lock, '--target', target, '--work', join(dir!.path, 'answers-work'), '--json']);
    expect(result.exitCode, result.stderr.slice(-3000)).toBe(1);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    const answer = (id: string) => report.steps.find((s: { step: string }) => s.step === id).result;
    expect(answer('emerge-autoconf')).toMatchObject({ ok: true, would: ['dev-build/autoconf-2.72-r1'] });
    expect(answer('emerge-masked').ok).toBe(false);
    expect(answer('emerge-masked').problems.map((p: { kind: string }) => p.kind)).toEqual(['masked']);
    expect(answer('emerge-masked').problems[0].lines.join('\n')).toMatch(/sys-apps\/grep-[0-9.r-]+::gentoo \(masked by: package\.mask\)/);
    expect(answer('emerge-missing').problems.map((p: { kind: string }) => p.kind)).toEqual(['missing']);
  }, REAL_TIMEOUT);
});
