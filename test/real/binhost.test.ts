import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, startCli, waitFor } from '../helpers/cli.js';
import { projectRoot, tempDir } from '../helpers/env.js';
import { preparedTarget, realTierSkipReason } from '../helpers/real-tier.js';

/**
 * Seed 004 with real Portage 3.0.66.1 in two stand-in roots (docs/binhost.md): the builder
 * emerges app-arch/bzip2 with --buildpkg; `bootstrap binhost serve --work` serves its PKGDIR
 * on 127.0.0.1; the client, a fresh copy of the same prepared root, installs it with
 * `emerge --getbinpkgonly` through the printed binrepos.conf. Then the audit ties the package to
 * the step that built it, a corrupted copy is refused, and a re-run reuses the package.
 */

const REAL_TIMEOUT = 900_000;
const RECIPE = join(projectRoot, 'test/fixtures/binhost/recipe.yaml');
const CPV = 'app-arch/bzip2-1.0.8-r5';
const PKGDIR = 'var/cache/binpkgs/lb';

let skipReason: string | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
let builder = '';
let client = '';
let lock = '';
const work = () => join(dir!.path, 'binhost-work');
const common = () => ['--recipe', RECIPE, '--lock', lock, '--set', `builder=${builder}`, '--set', `client=${client}`, '--work', work(), '--plain'];

function indexBlock(pkgdir: string, cpv: string): Record<string, string>[] {
  return readFileSync(join(pkgdir, 'Packages'), 'utf8')
    .split('\n\n')
    .map((block) => Object.fromEntries(block.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 2)])))
    .filter((fields) => fields.CPV === cpv);
}

beforeAll(async () => {
  skipReason = realTierSkipReason();
  if (skipReason) return;
  dir = tempDir('bootstrap-real-binhost-');
  ({ target: builder, lock } = await preparedTarget(dir.path));
  // The target: the same prepared root before anything was emerged in it.
  client = join(dir.path, 'client');
  execFileSync('cp', ['-a', '--reflink=auto', builder, client]);
}, REAL_TIMEOUT);

afterAll(() => {
  // rm, not Node's rmSync: a Portage build tree can nest deeper than PATH_MAX allows one path.
  if (dir) execFileSync('rm', ['-rf', '--one-file-system', '--', dir.path]);
});

describe('a binhost with real Portage (seed 004)', () => {
  it('builds with --buildpkg in one root, serves the PKGDIR on 127.0.0.1, installs with --getbinpkgonly in a fresh root', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const built = await cli(['run', ...common(), '--until', 'emerge-buildpkg']);
    expect(built.exitCode, built.stderr.slice(-3000)).toBe(0);
    const pkgdir = join(builder, PKGDIR);
    const [entry] = indexBlock(pkgdir, CPV);
    // Portage 3.0.66's default: GPKG, one instance per build (binpkg-multi-instance).
    expect(entry?.PATH).toBe('app-arch/bzip2/bzip2-1.0.8-r5-1.gpkg.tar');
    expect(existsSync(join(client, 'var/db/pkg', CPV))).toBe(false);

    const check = await cli(['binhost', 'check', '--pkgdir', pkgdir, '--work', work()]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(new RegExp(`^ok   ${CPV}  ${entry!.PATH}  ${entry!.SIZE} bytes\\n\\s+sha512 [0-9a-f]{128}\\n\\s+built by run \\S+ step emerge-buildpkg attempt 1`, 'm'));

    // The run's folder, by the root that built into it (the client's root has the same PKGDIR).
    const server = startCli(['binhost', 'serve', '--work', work(), '--root', 'builder', '--bind', '127.0.0.1']);
    let out = '';
    let err = '';
    server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
    try {
      await waitFor(() => /sync-uri = /.test(out) || server.exitCode !== null, 60_000, 'the binrepos.conf block');
      expect(out, err).toMatch(/^\[bootstrap-binhost\]\nsync-uri = http:\/\/127\.0\.0\.1:\d+\/\npriority = 10\n$/m);
      expect(err).toMatch(/checked 1 packages against .*Packages: all match/);
      expect(err).toContain(`the run's package folder: PKGDIR /var/cache/binpkgs/lb of root builder, ${pkgdir} (--root builder)`);
      expect(err).toContain(`  --root client  PKGDIR /var/cache/binpkgs/lb of root client, ${join(client, PKGDIR)}: `);
      // The printed block, as a user pastes it; the client's make.conf fetch command is the
      // run's sealed one, so the binhost gets its own (binrepos.conf's fetchcommand).
      const conf = out.split('\n').filter((line) => !line.startsWith('#')).join('\n');
      writeFileSync(join(client, 'etc/portage/binrepos.conf'), `${conf}fetchcommand = curl --fail --silent --show-error --output "\${DISTDIR}/\${FILE}" "\${URI}"\n`);

      const installed = await cli(['resume', '--work', work()]);
      expect(installed.exitCode, installed.stderr.slice(-3000)).toBe(0);
    } finally {
      server.kill('SIGTERM');
      await server;
    }
    expect(server.exitCode).toBe(0);
    // Portage asked for the index and the package, and got both from this server.
    expect(err).toMatch(/127\.0\.0\.1 GET \/Packages 200 \d+/);
    expect(err).toContain(`127.0.0.1 GET /${entry!.PATH} 200 ${entry!.SIZE}`);
    // Installed, from the builder's package: the same build, the same bytes.
    const vdb = join(client, 'var/db/pkg', CPV);
    expect(readFileSync(join(vdb, 'BUILD_TIME'), 'utf8').trim()).toBe(entry!.BUILD_TIME);
    expect(readFileSync(join(vdb, 'BINPKGMD5'), 'utf8').trim()).toBe(entry!.MD5);
    expect(readFileSync(join(vdb, 'repository'), 'utf8').trim()).toBe('gentoo');
    const log = readFileSync(readdirSync(join(work(), 'logs')).filter((f) => f.includes('emerge-getbinpkgonly')).map((f) => join(work(), 'logs', f))[0]!, 'utf8');
    expect(log).toContain(`>>> Emerging binary (1 of 1) ${CPV}::gentoo`);
    // The files are the builder's: the same program, by the MD5 each root's CONTENTS records.
    const program = (root: string) => readFileSync(join(root, 'var/db/pkg', CPV, 'CONTENTS'), 'utf8').match(/^obj \/bin\/bzip2-reference ([0-9a-f]{32}) /m)?.[1];
    expect(program(client)).toMatch(/^[0-9a-f]{32}$/);
    expect(program(client)).toBe(program(builder));
  }, REAL_TIMEOUT);

  it('audit ties the package to the run and step that built it, and reports it against a run that did not', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const pkgdir = join(builder, PKGDIR);
    const audit = async (w: string) => {
      const result = await cli(['audit', '--pkgdir', pkgdir, '--work', w, '--json'], { cwd: dir!.path });
      return (JSON.parse(result.stdout) as { checks: Array<{ subject: string; check: string; status: string; reason: string }> }).checks.filter((c) => c.check.startsWith('binpkg'));
    };
    const mine = await audit(work());
    expect(mine.map((c) => [c.subject, c.check, c.status])).toEqual([
      [`${pkgdir}: ${CPV}`, 'binpkg-index', 'pass'],
      [`${pkgdir}: ${CPV}`, 'binpkg-provenance', 'pass'],
    ]);
    expect(mine[1]!.reason).toMatch(/^built by run [0-9a-f-]{36}, step emerge-buildpkg attempt 1 \(fingerprint sha256:[0-9a-f]{16}\)$/);
    const other = await audit(join(dir!.path, 'setup-work'));
    expect(other.find((c) => c.check === 'binpkg-provenance')).toMatchObject({ status: 'warn', reason: expect.stringMatching(/^no run in .*setup-work built it/) });
  }, REAL_TIMEOUT);

  it('a corrupted package is refused by the index check, naming it, and nothing is served', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const copy = join(dir!.path, 'corrupted');
    cpSync(join(builder, PKGDIR), copy, { recursive: true });
    const [entry] = indexBlock(copy, CPV);
    const file = join(copy, entry!.PATH!);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(file, bytes);
    const served = await cli(['binhost', 'serve', '--pkgdir', copy]);
    expect(served.exitCode).toBe(1);
    expect(served.stdout).toBe('');
    expect(served.stderr).toMatch(new RegExp(`1 of 1 broken:\\n\\s+${CPV} \\(${entry!.PATH}, .*Packages line \\d+\\): MD5 [0-9a-f]{32}, the index says ${entry!.MD5}; SHA1 [0-9a-f]{40}, the index says ${entry!.SHA1}`));
    expect((await cli(['binhost', 'check', '--pkgdir', copy])).exitCode).toBe(1);
  }, REAL_TIMEOUT);

  it('a re-run installs the package from its own binary package; a USE change builds it again', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    // The builder's make.conf is gentoo-2025's lb one: --usepkg with binpkg matching.
    expect(readFileSync(join(builder, 'etc/portage/make.conf'), 'utf8')).toMatch(/^EMERGE_DEFAULT_OPTS="--usepkg --binpkg-respect-use=y --binpkg-changed-deps=y"$/m);
    const stepLog = () => readFileSync(readdirSync(join(work(), 'logs')).filter((f) => f.includes('emerge-buildpkg')).sort().map((f) => join(work(), 'logs', f)).at(-1)!, 'utf8');
    const again = await cli(['run', ...common(), '--fresh', '--until', 'emerge-buildpkg']);
    expect(again.exitCode, again.stderr.slice(-3000)).toBe(0);
    expect(stepLog()).toContain(`>>> Emerging binary (1 of 1) ${CPV}::gentoo`);
    expect(indexBlock(join(builder, PKGDIR), CPV).map((e) => e.BUILD_ID)).toEqual(['1']);

    appendFileSync(join(builder, 'etc/portage/package.use'), `\n${CPV.replace(/-[0-9].*$/, '')} static-libs\n`);
    const changed = await cli(['run', ...common(), '--fresh', '--until', 'emerge-buildpkg']);
    expect(changed.exitCode, changed.stderr.slice(-3000)).toBe(0);
    expect(stepLog()).toContain(`>>> Emerging (1 of 1) ${CPV}::gentoo`);
    expect(indexBlock(join(builder, PKGDIR), CPV).map((e) => e.BUILD_ID).sort()).toEqual(['1', '2']);
  }, REAL_TIMEOUT);
});
