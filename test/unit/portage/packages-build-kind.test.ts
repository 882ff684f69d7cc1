import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanContext, Root, RunContext } from '../../../src/engine/step-kind.js';
import { createPackagesBuildKind } from '../../../src/steps/packages-build.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

const stack = join(projectRoot, 'test/fixtures/profiles/stack');

function contexts(rootPath: string, notes: string[]): { plan: PlanContext; run: RunContext } {
  const root: Root = { name: 'lb', path: rootPath, host: false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
  const common = { recipeDir: '/nowhere', params: {}, roots: { lb: root }, root, stepId: 'packages-build', preview: false, render: (t: string) => t };
  return {
    plan: common,
    run: {
      ...common,
      workDir: '/nowhere',
      log: { path: '/dev/null', write: () => undefined, note: (line: string) => notes.push(line) },
      signal: new AbortController().signal,
      runScript: () => Promise.reject(new Error('no scripts')),
    },
  };
}

describe('the packages-build step kind', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('writes the stacked list inside the root, one atom per line, and logs the dropped lines', async () => {
    dir = tempDir('bootstrap-pkgbuild-');
    cpSync(join(stack, 'profiles'), join(dir.path, 'var/db/repos/gentoo/profiles'), { recursive: true });
    const kind = createPackagesBuildKind();
    const spec = kind.schema.parse({ repo: '/var/db/repos/gentoo', profile: 'leaf', out: '/var/tmp/bootstrap/packages.build' });
    const notes: string[] = [];
    const ctx = contexts(dir.path, notes);
    const plan = await kind.plan(spec, ctx.plan);
    await kind.run(spec, plan, ctx.run);
    expect(readFileSync(join(dir.path, 'var/tmp/bootstrap/packages.build'), 'utf8')).toBe('a/two\na/three\nb/arch:0\na/one\n>=a/versioned-1.2-r3\na/four\n');
    expect(notes.filter((n) => n.includes('warning:'))).toHaveLength(3);
  });

  it('previews from a host repository in plan without changing the fingerprint detail', async () => {
    const kind = createPackagesBuildKind();
    const ctx = contexts('<target>', []);
    const base = { repo: '/var/db/repos/gentoo', profile: 'leaf', out: '/var/tmp/bootstrap/packages.build' };
    const preview = { ...ctx.plan, preview: true };
    const without = await kind.plan(kind.schema.parse(base), preview);
    const withPreview = await kind.plan(kind.schema.parse({ ...base, preview_repo: stack }), preview);
    expect(withPreview.detail).toEqual(without.detail);
    expect(withPreview.summary).toContain(`packages.build from ${stack} (6 atoms):`);
    expect(withPreview.summary).toContain('  a/four');
    expect(without.summary.join('\n')).not.toContain('a/four');
    // A run's plan never reads the host repository, even a broken one.
    const forRun = await kind.plan(kind.schema.parse({ ...base, preview_repo: '/nonexistent' }), ctx.plan);
    expect(forRun.detail).toEqual(without.detail);
  });

  it('refuses a profile path that leaves profiles/', () => {
    const kind = createPackagesBuildKind();
    expect(kind.schema.safeParse({ repo: '/r', profile: '../../etc', out: '/o' }).success).toBe(false);
  });
});
