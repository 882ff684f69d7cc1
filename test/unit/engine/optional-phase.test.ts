import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtins, resolveParams } from '../../../src/engine/params.js';
import { buildPlan } from '../../../src/engine/plan.js';
import { loadRecipe } from '../../../src/engine/recipe/load-recipe.js';
import type { StepKind } from '../../../src/engine/step-kind.js';
import { tempDir } from '../../helpers/env.js';

// A recipe whose first phase makes the folder the next phases start from (as gentoo-2025's
// phase 0 makes the live-bootstrap target): unless_set, deferred detection, given vs frozen.
const RECIPE = [
  'name: t',
  'version: 1',
  'description: test',
  'parameters:',
  '  target: { type: directory, default: "{{work}}/made" }',
  '  chost:',
  '    default: i386-unknown-linux-musl',
  '    detect: { glob: "{{target}}/gcc/*-linux-musl" }',
  'phases:',
  '  - id: make',
  '    unless_set: target',
  '    steps: [{ id: make, kind: run, root: host, script: "true" }]',
  '  - id: use',
  '    steps: [{ id: use, kind: run, root: host, script: "echo {{chost}}" }]',
];

const runKind: StepKind<{ script: string }> = {
  name: 'run',
  schema: { safeParse: (v: unknown) => ({ success: true, data: v }) } as never,
  needsRoot: () => false,
  plan: (spec) => ({ summary: [], detail: { script: spec.script } }),
  run: async () => undefined,
};
const registry = new Map([['run', async () => runKind as StepKind<unknown>]]);

describe('a phase left out when its parameter is given, and detection that waits for it', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  const load = (lines = RECIPE) => {
    writeFileSync(join(dir.path, 'recipe.yaml'), lines.join('\n'));
    return loadRecipe(join(dir.path, 'recipe.yaml'));
  };
  const work = () => join(dir.path, 'work');

  it('keeps the phase and defers detection while the default folder does not exist; detects once it does', async () => {
    const r = await load();
    const before = resolveParams(r, { builtins: builtins(work(), dir.path), given: {} });
    expect(before.sources).toMatchObject({ target: 'default', chost: 'deferred' });
    expect(before.values.chost).toBe('i386-unknown-linux-musl');
    const plan = await buildPlan(r, before, registry);
    expect(plan.steps.map((s) => s.id)).toEqual(['make', 'use']);
    expect(plan.omitted).toEqual([]);

    mkdirSync(join(work(), 'made/gcc/i686-unknown-linux-musl'), { recursive: true });
    const after = resolveParams(r, { builtins: builtins(work(), dir.path), given: {} });
    expect(after.sources.chost).toBe('detected');
    expect(after.values.chost).toBe('i686-unknown-linux-musl');
  });

  it('leaves the phase out when the parameter is given, and still checks that a given directory exists', async () => {
    const r = await load();
    const given = join(dir.path, 'mine');
    expect(() => resolveParams(r, { builtins: builtins(work(), dir.path), given: { target: given } })).toThrow(/parameter target: .*mine is not a directory/);
    mkdirSync(join(given, 'gcc/i686-unknown-linux-musl'), { recursive: true });
    const params = resolveParams(r, { builtins: builtins(work(), dir.path), given: { target: given } });
    const plan = await buildPlan(r, params, registry);
    expect(plan.steps.map((s) => s.id)).toEqual(['use']);
    expect(plan.omitted).toEqual([{ id: 'make', title: 'make', reason: `target is given (${given})` }]);
  });

  it('an empty given folder is still not the starting point: detection says so instead of falling back', async () => {
    const r = await load();
    const given = join(dir.path, 'empty');
    mkdirSync(given);
    expect(() => resolveParams(r, { builtins: builtins(work(), dir.path), given: { target: given } })).toThrow(/cannot detect parameter chost: nothing matches/);
  });

  it('a frozen value (resume) keeps the phase; only what was given counts as set', async () => {
    const r = await load();
    const frozen = { target: join(work(), 'made'), chost: 'i386-unknown-linux-musl' };
    const params = resolveParams(r, { builtins: builtins(work(), dir.path), given: {}, frozen });
    expect(params.sources).toMatchObject({ target: 'frozen', chost: 'frozen' });
    expect((await buildPlan(r, params, registry)).steps.map((s) => s.id)).toEqual(['make', 'use']);
  });

  it('refuses unless_set naming no parameter, with the line', async () => {
    const r = await load(RECIPE.map((l) => l.replace('unless_set: target', 'unless_set: tagret')));
    const params = resolveParams(r, { builtins: builtins(work(), dir.path), given: {} });
    await expect(buildPlan(r, params, registry)).rejects.toThrow(/recipe\.yaml:\d+: phase make: unless_set names tagret, which is not a parameter of this recipe/);
  });
});
