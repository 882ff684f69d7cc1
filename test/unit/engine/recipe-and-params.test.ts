import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtins, resolveParams } from '../../../src/engine/params.js';
import { loadRecipe } from '../../../src/engine/recipe/load-recipe.js';
import { canonicalJson, fingerprint } from '../../../src/engine/fingerprint.js';
import { tempDir } from '../../helpers/env.js';

function recipe(dir: string, body: string[]): string {
  const path = join(dir, 'recipe.yaml');
  writeFileSync(path, ['name: t', 'version: 1', 'description: test', ...body, 'phases:', '  - id: p', '    steps:', '      - { id: s, kind: run, root: host, script: "true" }'].join('\n'));
  return path;
}

describe('recipes and parameters', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());
  const host = () => builtins('/w', dir.path);

  it('names the line of a YAML syntax error and of a duplicate step id', async () => {
    writeFileSync(join(dir.path, 'recipe.yaml'), 'name: t\nversion: [1\n');
    await expect(loadRecipe(join(dir.path, 'recipe.yaml'))).rejects.toThrow(/recipe\.yaml:\d+:/);
    writeFileSync(
      join(dir.path, 'recipe.yaml'),
      ['name: t', 'version: 1', 'description: d', 'phases:', '  - id: p', '    steps:', '      - { id: s, kind: run, root: host, script: a }', '      - { id: s, kind: run, root: host, script: b }'].join('\n'),
    );
    await expect(loadRecipe(join(dir.path, 'recipe.yaml'))).rejects.toThrow(/recipe\.yaml:8: step id s is used twice \(first at .*recipe\.yaml:7\)/);
  });

  it('loads a recipe once per content: the same bytes give the same recipe, changed bytes are parsed again', async () => {
    const path = recipe(dir.path, ['parameters:', '  a: { default: x }']);
    const first = await loadRecipe(path);
    expect(await loadRecipe(path)).toBe(first);
    recipe(dir.path, ['parameters:', '  b: { default: y }']);
    const second = await loadRecipe(path);
    expect(Object.keys(second.file.parameters)).toEqual(['b']);
    expect(second.digest).not.toBe(first.digest);
    // A change that breaks the file is still reported, not hidden by the earlier load.
    writeFileSync(path, 'name: t\nversion: [1\n');
    await expect(loadRecipe(path)).rejects.toThrow(/recipe\.yaml:\d+:/);
  });

  it('resolves defaults that refer to other parameters, with --set taking precedence', async () => {
    const r = await loadRecipe(recipe(dir.path, ['parameters:', '  a: { default: "{{b}}-x" }', '  b: { default: "{{host_cores}}" }', '  c: { default: "{{work}}/c" }']));
    const { values, sources } = resolveParams(r, { builtins: host(), given: { b: '7' } });
    expect(values).toMatchObject({ a: '7-x', b: '7', c: '/w/c' });
    expect(sources).toMatchObject({ a: 'default', b: 'set', work: 'builtin' });
  });

  it('detects a value from the one matching host path, and fails clearly on none or many', async () => {
    mkdirSync(join(dir.path, 'target/usr/lib/gcc/i686-unknown-linux-musl'), { recursive: true });
    const r = await loadRecipe(recipe(dir.path, ['parameters:', `  target: { type: directory, default: "${dir.path}/target" }`, '  chost:', '    default: i386-unknown-linux-musl', '    detect: { glob: "{{target}}/usr/lib/gcc/*-linux-musl" }']));
    expect(resolveParams(r, { builtins: host(), given: {} }).values.chost).toBe('i686-unknown-linux-musl');
    mkdirSync(join(dir.path, 'target/usr/lib/gcc/i386-unknown-linux-musl'));
    expect(() => resolveParams(r, { builtins: host(), given: {} })).toThrow(/cannot detect parameter chost: 2 paths match/);
    expect(resolveParams(r, { builtins: host(), given: { chost: 'x' } }).values.chost).toBe('x');
    expect(() => resolveParams(r, { builtins: host(), given: { target: join(dir.path, 'nope') } })).toThrow(/parameter target: .*nope is not a directory/);
  });

  it('refuses loops, unknown --set names, built-ins and values that miss their pattern', async () => {
    const loop = await loadRecipe(recipe(dir.path, ['parameters:', '  a: { default: "{{b}}" }', '  b: { default: "{{a}}" }']));
    expect(() => resolveParams(loop, { builtins: host(), given: {} })).toThrow(/in a loop: .*a -> b -> a/);
    const r = await loadRecipe(recipe(dir.path, ['parameters:', '  n: { default: "1", pattern: "[0-9]+" }', '  need: { description: the thing }']));
    expect(() => resolveParams(r, { builtins: host(), given: { need: 'x', other: '1' } })).toThrow(/recipe t has no parameter other/);
    expect(() => resolveParams(r, { builtins: host(), given: { need: 'x', work: '/x' } })).toThrow(/work is set by bootstrap itself/);
    expect(() => resolveParams(r, { builtins: host(), given: { need: 'x', n: 'one' } })).toThrow(/does not match \[0-9\]\+/);
    expect(() => resolveParams(r, { builtins: host(), given: {} })).toThrow(/parameter need has no value \(the thing\)/);
    expect(resolveParams(r, { builtins: host(), given: {}, allowMissing: true }).values.need).toBe('<need>');
  });

  it('fingerprints canonical JSON, independent of key order', async () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
    expect(fingerprint({ x: 1, y: 2 })).toBe(fingerprint({ y: 2, x: 1 }));
    expect(fingerprint({ x: 1 })).not.toBe(fingerprint({ x: 2 }));
  });
});
