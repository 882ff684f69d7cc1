import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPackKind } from '../../../src/steps/pack.js';
import { needsRoot, needsTool } from '../../helpers/env.js';
import { packContexts } from '../../helpers/stage-kind-context.js';
import { makeSeedTree, stageTempDir } from '../../helpers/stage-tree.js';

const kind = createPackKind();

describe('the pack step kind: run', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('packs the step\'s root and returns the tarball, DIGESTS and CONTENTS as artifacts with sha512 integrity', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'setcap', 'libcap2-bin');
    needsTool(ctx, 'setfattr', 'attr');
    dir = stageTempDir();
    const root = join(dir.path, 'gentoo');
    makeSeedTree(root);
    const out = join(dir.path, 'stage3-bootstrap.tar.xz');
    const { plan: planCtx, run, notes } = packContexts(root);
    const spec = kind.schema.parse({ out, epoch: 1700000000 });
    const outcome = await kind.run(spec, await kind.plan(spec, planCtx), run);
    const artifacts = outcome?.artifacts ?? [];
    expect(artifacts.map((a) => a.path)).toEqual([out, `${out}.DIGESTS`, `${out}.CONTENTS.gz`]);
    for (const a of artifacts) {
      expect(a.size).toBe(statSync(a.path).size);
      const { createHash } = await import('node:crypto');
      expect(a.integrity).toBe(`sha512-${createHash('sha512').update(readFileSync(a.path)).digest('base64')}`);
    }
    expect(notes[0]).toMatch(/^packed 0\.0 MiB of [\d.]+ MiB \(0%\)$/);
    expect(notes.at(-1)).toMatch(/stage3-bootstrap\.tar\.xz: [\d.]+ MiB, \d+ entries, sha512-/);
  });

  it('stops when the run is interrupted and leaves no file behind', async (ctx) => {
    needsRoot(ctx);
    dir = stageTempDir();
    const root = join(dir.path, 'gentoo');
    makeSeedTree(root);
    const controller = new AbortController();
    controller.abort(new Error('SIGTERM'));
    const { plan: planCtx, run } = packContexts(root, { signal: controller.signal });
    const spec = kind.schema.parse({ out: join(dir.path, 'seed.tar.xz') });
    await expect(kind.run(spec, await kind.plan(spec, planCtx), run)).rejects.toThrow('SIGTERM');
    expect(readdirSync(dir.path)).toEqual(['gentoo']);
  });

  it('names the step when its root is gone by the time it runs', async (ctx) => {
    needsRoot(ctx);
    dir = stageTempDir();
    const root = join(dir.path, 'gentoo');
    makeSeedTree(root);
    const { plan: planCtx, run } = packContexts(root);
    const spec = kind.schema.parse({ out: join(dir.path, 'seed.tar.xz') });
    const plan = await kind.plan(spec, planCtx);
    const { rmSync } = await import('node:fs');
    rmSync(root, { recursive: true });
    await expect(kind.run(spec, plan, run)).rejects.toMatchObject({ message: expect.stringContaining('step pack-seed: root') });
    expect(readdirSync(dir.path)).toEqual([]);
  });
});
