import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { engineDeps, kindOptions } from '../../../src/cli/engine-deps.js';
import { planRecipe, runStartedEvent } from '../../../src/engine/session.js';
import { writePkgdir } from '../../helpers/binpkgs.js';
import { cli, startCli, waitFor } from '../../helpers/cli.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

/**
 * `binhost serve|check --work W` find the run's package folders through its plan (the journal's
 * recipe with the run's parameters): a root's PKGDIR and those its steps set, on this machine.
 * The journal is the one `bootstrap run` starts with; the packages are written by the test.
 */

const RECIPE = join(projectRoot, 'test/fixtures/binhost/run-pkgdirs/recipe.yaml');
const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

async function run(): Promise<{ work: string; target: string; folder: (root: string, pkgdir: string) => string }> {
  const dir = tempDir('bootstrap-run-pkgdirs-');
  dirs.push(dir);
  const work = join(dir.path, 'work');
  const target = join(dir.path, 'target');
  mkdirSync(work);
  mkdirSync(target);
  const given = { target };
  const plan = await planRecipe({ recipe: RECIPE, work, given }, engineDeps(kindOptions({ work })));
  writeFileSync(join(work, 'journal.jsonl'), `${JSON.stringify(runStartedEvent(plan, given))}\n`);
  return { work, target, folder: (root, pkgdir) => join(target, root, pkgdir) };
}

const pkg = (cpv: string) => ({ cpv, bytes: Buffer.from(`bytes of ${cpv}`) });

describe('binhost serve and check with --work', () => {
  it("take the run's only package folder with packages, and name it and the others", async () => {
    const { work, folder } = await run();
    writePkgdir(folder('lb', 'var/cache/binpkgs/lb'), [pkg('app-arch/bzip2-1.0.8-r5')]);
    const result = await cli(['binhost', 'check', '--work', work]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ok   app-arch\/bzip2-1\.0\.8-r5  app-arch\/bzip2\/bzip2-1\.0\.8-r5-1\.gpkg\.tar/m);
    const lines = result.stderr.split('\n');
    expect(lines[0]).toBe(`the run's package folder: PKGDIR /var/cache/binpkgs/lb of root lb, ${folder('lb', 'var/cache/binpkgs/lb')} (the run's only package folder with packages)`);
    // The cross steps' own PKGDIR, named by root and path; the run step is not an emerge.
    expect(lines).toContain(`  --root lb:/var/cache/binpkgs/cross  PKGDIR /var/cache/binpkgs/cross of root lb, ${folder('lb', 'var/cache/binpkgs/cross')}: no index yet (steps cross-binutils, cross-gcc)`);
    expect(lines).toContain(`  --root gentoo  PKGDIR /var/cache/binpkgs of root gentoo, ${folder('gentoo', 'var/cache/binpkgs')}: no index yet (steps emerge-findutils)`);
  });

  it('refuse to guess between folders with packages, listing them; --root chooses', async () => {
    const { work, folder } = await run();
    writePkgdir(folder('lb', 'var/cache/binpkgs/lb'), [pkg('app-arch/bzip2-1.0.8-r5')]);
    writePkgdir(folder('lb', 'var/cache/binpkgs/cross'), [pkg('sys-devel/binutils-2.43'), pkg('sys-devel/gcc-14.2.1')]);

    const ambiguous = await cli(['binhost', 'serve', '--work', work]);
    expect(ambiguous.exitCode).toBe(2);
    expect(ambiguous.stderr).toContain(`the run in ${work} has packages in 2 folders; say which`);
    expect(ambiguous.stderr).toContain(`  --root lb  PKGDIR /var/cache/binpkgs/lb of root lb, ${folder('lb', 'var/cache/binpkgs/lb')}: 1 package (steps emerge-bzip2)`);
    expect(ambiguous.stderr).toContain('  --root lb:/var/cache/binpkgs/cross  PKGDIR /var/cache/binpkgs/cross of root lb');
    expect(ambiguous.stderr).toMatch(/: 2 packages \(steps cross-binutils, cross-gcc\)/);
    expect(ambiguous.stderr).toMatch(/Choose one with --root, e\.g\. --root lb\./);

    const cross = await cli(['binhost', 'check', '--work', work, '--root', 'lb:/var/cache/binpkgs/cross', '--json']);
    expect(cross.exitCode, cross.stderr).toBe(0);
    expect((JSON.parse(cross.stdout) as { packages: Array<{ cpv: string }> }).packages.map((p) => p.cpv)).toEqual(['sys-devel/binutils-2.43', 'sys-devel/gcc-14.2.1']);
    expect(cross.stderr).toMatch(/^the run's package folder: PKGDIR \/var\/cache\/binpkgs\/cross of root lb, .* \(--root lb:\/var\/cache\/binpkgs\/cross\)$/m);

    const unknown = await cli(['binhost', 'check', '--work', work, '--root', 'cross']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/--root cross: the run in .* has no package folder by that name; its package folders:\n {2}--root lb /);
    // A root with several folders: its name is the one its env sets.
    expect((await cli(['binhost', 'check', '--work', work, '--root', 'lb'])).stdout).toMatch(/^ok   app-arch\/bzip2-1\.0\.8-r5 /m);
    // Chosen but empty: the index check says so.
    const empty = await cli(['binhost', 'check', '--work', work, '--root', 'gentoo']);
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain(`no Packages index in ${folder('gentoo', 'var/cache/binpkgs')}`);
  });

  it('serve --work --root serves the chosen folder on 127.0.0.1', async () => {
    const { work, folder } = await run();
    writePkgdir(folder('lb', 'var/cache/binpkgs/lb'), [pkg('app-arch/bzip2-1.0.8-r5')]);
    const cross = folder('lb', 'var/cache/binpkgs/cross');
    const files = writePkgdir(cross, [pkg('sys-devel/binutils-2.43')]);
    const server = startCli(['binhost', 'serve', '--work', work, '--root', 'lb:/var/cache/binpkgs/cross', '--quiet']);
    let out = '';
    server.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      await waitFor(() => /sync-uri = /.test(out) || server.exitCode !== null, 30_000, 'the binrepos.conf block');
      const url = /sync-uri = (\S+)/.exec(out)![1]!;
      expect(await (await fetch(`${url}Packages`)).text()).toBe(readFileSync(join(cross, 'Packages'), 'utf8'));
      expect((await fetch(`${url}${files['sys-devel/binutils-2.43']}`)).status).toBe(200);
    } finally {
      server.kill('SIGTERM');
      await server;
    }
  });

  it('say what to give when the folder is not named, or named twice', async () => {
    const { work, folder } = await run();
    const lb = folder('lb', 'var/cache/binpkgs/lb');
    writePkgdir(lb, [pkg('app-arch/bzip2-1.0.8-r5')]);
    const none = await cli(['binhost', 'serve']);
    expect([none.exitCode, none.stderr]).toEqual([2, expect.stringMatching(/which package folder\? Give --pkgdir DIR, or --work W for the run in W/)]);
    const both = await cli(['binhost', 'serve', '--pkgdir', lb, '--work', work]);
    expect([both.exitCode, both.stderr]).toEqual([2, expect.stringMatching(/give --pkgdir DIR or --work W, not both/)]);
    const rootWithPkgdir = await cli(['binhost', 'check', '--pkgdir', lb, '--root', 'lb']);
    expect([rootWithPkgdir.exitCode, rootWithPkgdir.stderr]).toEqual([2, expect.stringMatching(/--root chooses among the package folders of the run in --work; it does not go with --pkgdir/)]);
    const noRun = await cli(['binhost', 'check', '--work', join(work, 'nothing')]);
    expect(noRun.exitCode).toBe(2);
    expect(noRun.stderr).toMatch(/no run in .*nothing/);
  });
});
