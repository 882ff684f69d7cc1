import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanContext, Root, RunContext } from '../../../src/engine/step-kind.js';
import { createHandoffKind } from '../../../src/steps/handoff.js';
import { tempDir } from '../../helpers/env.js';
import { makeSeed } from '../../helpers/handoff-seed.js';
import { makeMiniReleng } from '../../helpers/mini-releng.js';

describe('handoff step kind', () => {
  let tmp: ReturnType<typeof tempDir>;
  let roots: Record<string, Root>;
  const kind = createHandoffKind();

  beforeEach(() => {
    tmp = tempDir('handoff-step-');
    mkdirSync(join(tmp.path, 'gentoo/var/tmp'), { recursive: true });
    makeSeed(join(tmp.path, 'gentoo/var/tmp'));
    makeMiniReleng(join(tmp.path, 'gentoo/var/cache/distfiles/releng'));
    const root = (name: string, path: string, host: boolean): Root => ({ name, path, host, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} });
    roots = { host: root('host', '/', true), gentoo: root('gentoo', join(tmp.path, 'gentoo'), false) };
  });
  afterEach(() => tmp.remove());

  const planCtx = (root: Root): PlanContext => ({
    recipeDir: tmp.path,
    params: {},
    roots,
    root,
    stepId: 'handoff',
    preview: false,
    render: (text) => text,
  });

  function runCtx(notes: string[]): RunContext {
    return {
      stepId: 'handoff',
      recipeDir: tmp.path,
      render: (text: string) => text,
      root: roots.host!,
      roots,
      params: {},
      workDir: tmp.path,
      log: { path: join(tmp.path, 'log'), write: () => undefined, note: (l) => notes.push(l) },
      signal: new AbortController().signal,
      runScript: async () => ({ exitCode: 0 }),
    };
  }

  const raw = () => ({ seed: '/var/tmp/stage3-bootstrap.tar.xz', seed_root: 'gentoo', storedir: join(tmp.path, 'catalyst'), treeish: 'abc', timestamp: '2025-06-12', jobs: '4', releng: '/var/cache/distfiles/releng', releng_root: 'gentoo' });

  it('plans what it will write, and runs the hand-off returning sha512 artifacts', async () => {
    const spec = kind.schema.parse(raw());
    expect(spec.jobs).toBe(4);
    const plan = await kind.plan(spec, planCtx(roots.host!));
    expect(plan.summary.join('\n')).toContain(join(tmp.path, 'catalyst/builds/default/stage3-bootstrap.tar.xz'));
    expect(plan.summary.join('\n')).toContain(join(tmp.path, 'catalyst/specs/stage1-systemd-23.spec'));
    expect(plan.detail).toMatchObject({ seed: join(tmp.path, 'gentoo/var/tmp/stage3-bootstrap.tar.xz'), init: 'systemd', releng_path: join(tmp.path, 'gentoo/var/cache/distfiles/releng') });

    const notes: string[] = [];
    const outcome = await kind.run(spec, plan, runCtx(notes));
    const artifacts = outcome?.artifacts ?? [];
    const conf = artifacts.find((a) => a.path.endsWith('/catalyst.conf'))!;
    expect(conf.integrity).toBe(`sha512-${createHash('sha512').update(readFileSync(conf.path)).digest('base64')}`);
    expect(conf.size).toBe(readFileSync(conf.path).length);
    expect(artifacts.map((a) => a.path)).toContain(join(tmp.path, 'catalyst/builds/default/stage3-bootstrap.tar.xz'));
    expect(notes.join('\n')).toContain(`catalyst -c ${join(tmp.path, 'catalyst/specs/catalyst.conf')} -f ${join(tmp.path, 'catalyst/specs/stage1-systemd-23.spec')}`);
  });

  it('defers the tree-ish by default when the storedir has no snapshot yet', async () => {
    const { treeish: _unused, ...rest } = raw();
    const spec = kind.schema.parse(rest);
    const notes: string[] = [];
    await kind.run(spec, await kind.plan(spec, planCtx(roots.host!)), runCtx(notes));
    expect(readFileSync(join(tmp.path, 'catalyst/specs/stage1-systemd-23.spec'), 'utf8')).toContain('snapshot_treeish: @TREEISH@');
    expect(notes.join('\n')).toMatch(/catalyst --snapshot stable/);
  });

  it('refuses to run outside the host root, bad names at plan time, and seeds outside their root', async () => {
    await expect(async () => kind.plan(kind.schema.parse(raw()), planCtx(roots.gentoo!))).rejects.toMatchObject({ code: 'ERECIPE' });
    await expect(async () => kind.plan(kind.schema.parse({ ...raw(), timestamp: 'a b' }), planCtx(roots.host!))).rejects.toMatchObject({ code: 'EHANDOFF_UNSAFE_VALUE' });
    expect(kind.schema.safeParse({ ...raw(), init: 'runit' }).success).toBe(false);
    await expect(async () => kind.plan(kind.schema.parse({ ...raw(), releng: '/../../x', releng_root: 'gentoo' }), planCtx(roots.host!))).rejects.toMatchObject({ code: 'ERECIPE' });
    const { releng: _r, releng_root: _rr, ...noReleng } = raw();
    const plan = await kind.plan(kind.schema.parse(noReleng), planCtx(roots.host!));
    expect(plan.summary[0]).toMatch(/a run would refuse this step: no releng/);
    await expect(async () => kind.plan(kind.schema.parse({ ...raw(), seed: '../../etc/x.tar.xz' }), planCtx(roots.host!))).rejects.toMatchObject({ code: 'ERECIPE' });
    await expect(async () => kind.plan(kind.schema.parse({ ...raw(), seed_root: 'nope' }), planCtx(roots.host!))).rejects.toMatchObject({ code: 'ERECIPE' });
    expect(kind.schema.safeParse({ ...raw(), bindist: true }).success).toBe(false);
  });
});
