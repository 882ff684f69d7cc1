import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../helpers/env.js';

/**
 * A run keeps its parsed recipe in the work directory (recipe.parsed.json) so that `status`,
 * `why`, `resume` and `plan --work` need not parse the YAML again; it stands in only for the very
 * bytes it was parsed from, by the very code that parsed it.
 */
type LoadRecipe = typeof import('../../../src/engine/recipe/load-recipe.js');

/** A fresh copy of the module: a process keeps the recipes it loaded, and these tests need a new process's view. */
async function freshModule(): Promise<LoadRecipe> {
  vi.resetModules();
  return import('../../../src/engine/recipe/load-recipe.js');
}

const RECIPE = ['name: t', 'version: 1', 'description: test', 'phases:', '  - id: p', '    steps:', '      - id: s', '        kind: run', '        root: host', '        script: "true"', ''].join('\n');

describe('the parsed recipe a run keeps', () => {
  let dir: { path: string; remove: () => void };
  let path: string;
  let work: string;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir.path, 'recipe.yaml');
    work = join(dir.path, 'work');
    mkdirSync(work);
    writeFileSync(path, RECIPE);
  });
  afterEach(() => dir.remove());

  /** Keeps the recipe, then changes the kept script, so that a load shows which one it used. */
  async function keepMarked(): Promise<void> {
    const m = await freshModule();
    m.keepRecipe(await m.loadRecipe(path), work);
    const kept = JSON.parse(readFileSync(join(work, m.KEPT_RECIPE), 'utf8'));
    kept.file.phases[0].steps[0].script = 'from the kept recipe';
    writeFileSync(join(work, m.KEPT_RECIPE), JSON.stringify(kept));
  }
  const script = (r: { file: { phases: Array<{ steps: Array<Record<string, unknown>> }> } }) => r.file.phases[0]!.steps[0]!.script;

  it('stands in for parsing the same bytes, with the same lines for every field', async () => {
    const parsed = await (await freshModule()).loadRecipe(path);
    await keepMarked();
    const m = await freshModule();
    const kept = await m.loadRecipe(path, { work });
    expect(script(kept)).toBe('from the kept recipe');
    expect(kept.digest).toBe(parsed.digest);
    for (const field of [['phases', 0, 'steps', 0, 'script'], ['phases', 0, 'steps', 0], ['description'], ['phases', 0, 'steps', 0, 'nope'], []]) {
      expect(kept.locate(field)).toBe(parsed.locate(field));
    }
    expect(kept.locate(['phases', 0, 'steps', 0, 'script'])).toBe(`${path}:10`);
    // Without a work directory, or with another one, the YAML is parsed.
    expect(script(await (await freshModule()).loadRecipe(path))).toBe('true');
    expect(script(await (await freshModule()).loadRecipe(path, { work: dir.path }))).toBe('true');
  });

  it('is passed over for other bytes, another recipe path, another build, or a torn file', async () => {
    await keepMarked();
    const keptPath = join(work, 'recipe.parsed.json');
    const good = readFileSync(keptPath, 'utf8');

    writeFileSync(path, RECIPE.replace('"true"', '"changed"'));
    expect(script(await (await freshModule()).loadRecipe(path, { work }))).toBe('changed');
    writeFileSync(path, RECIPE);

    for (const [what, text] of [
      ['another path', good.replace(JSON.stringify(path), JSON.stringify(join(dir.path, 'other.yaml')))],
      ['another build', good.replace(/"code":"[0-9a-f]+"/, `"code":"${'0'.repeat(64)}"`)],
      ['torn', good.slice(0, good.length / 2)],
      ['not an object', '[]'],
    ] as const) {
      writeFileSync(keptPath, text);
      expect(script(await (await freshModule()).loadRecipe(path, { work })), what).toBe('true');
    }
  });

  it('is written by rename and only once per recipe; a value JSON cannot carry keeps nothing', async () => {
    const m = await freshModule();
    const recipe = await m.loadRecipe(path);
    m.keepRecipe(recipe, work);
    const first = readFileSync(join(work, m.KEPT_RECIPE), 'utf8');
    expect(JSON.parse(first)).toMatchObject({ format: 1, path, digest: recipe.digest });
    m.keepRecipe(recipe, work);
    expect(readFileSync(join(work, m.KEPT_RECIPE), 'utf8')).toBe(first);
    expect(readdirSync(work)).toEqual([m.KEPT_RECIPE]); // no temporary file left

    const other = join(dir.path, 'work-inf');
    mkdirSync(other);
    writeFileSync(path, RECIPE.replace('script: "true"', 'script: "true"\n        limit: .inf'));
    const n = await freshModule();
    n.keepRecipe(await n.loadRecipe(path), other);
    expect(readdirSync(other)).toEqual([]);
    // A work directory that cannot be written to keeps nothing and is no error.
    n.keepRecipe(await n.loadRecipe(path), join(dir.path, 'missing'));
  });

  it('a recipe error found only when parsing still names its line after a keep of other bytes', async () => {
    await keepMarked();
    writeFileSync(path, RECIPE.replace('kind: run', 'kind: run\n        kind: twice'));
    await expect((await freshModule()).loadRecipe(path, { work })).rejects.toThrow(/recipe\.yaml:\d+: /);
  });
});
