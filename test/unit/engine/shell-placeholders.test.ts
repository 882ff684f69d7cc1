import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { builtins, resolveParams } from '../../../src/engine/params.js';
import { buildPlan } from '../../../src/engine/plan.js';
import { loadRecipe } from '../../../src/engine/recipe/load-recipe.js';
import { renderTemplate } from '../../../src/engine/render.js';
import { patternIsShellSafe, placeholderContexts } from '../../../src/engine/shell-template.js';
import { engineDeps, kindOptions } from '../../../src/cli/engine-deps.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

/** A recipe with the given parameters and one run step on the host with `script`. */
function recipe(dir: string, params: string[], script: string, roots: string[] = []): string {
  const path = join(dir, 'recipe.yaml');
  const body = [
    'name: t',
    'version: 1',
    'description: test',
    'parameters:',
    '  plain: { default: x }',
    ...params,
    ...(roots.length ? ['roots:', ...roots] : []),
    'phases:',
    '  - id: p',
    '    steps:',
    '      - id: s',
    '        kind: run',
    '        root: host',
    '        script: |',
    ...script.split('\n').map((line) => `          ${line}`),
  ];
  writeFileSync(path, `${body.join('\n')}\n`);
  return path;
}

describe('parameters in shell scripts', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('a {{name}} in a shell field is one quoted word; elsewhere the value as it is', async () => {
    const values = { v: `/bin/busybox; touch X`, t: `/tmp/t$(touch X)`, q: `it's` };
    expect(renderTemplate('bb={{v}} t={{ t }} q={{q}}', values, 'here', { shell: true })).toBe(`bb='/bin/busybox; touch X' t='/tmp/t$(touch X)' q='it'\\''s'`);
    expect(renderTemplate('bb={{v}}', values, 'here')).toBe('bb=/bin/busybox; touch X');
    // What a shell makes of it: the same words back, nothing run.
    const script = renderTemplate('printf "%s\\n" {{v}} {{t}} {{q}}', values, 'here', { shell: true });
    expect(execFileSync('/bin/sh', ['-c', script], { cwd: dir.path, encoding: 'utf8' })).toBe(`/bin/busybox; touch X\n/tmp/t$(touch X)\nit's\n`);
    expect(() => renderTemplate('{{raw:v}}', values, 'files/x')).toThrow(/files\/x: \{\{raw:v\}\} is for shell scripts only/);
  });

  it('plans a hostile --set value as one word in the script, the prelude and the preflight prelude', async () => {
    const path = recipe(
      dir.path,
      ['  v: { default: ok }'],
      'echo {{v}}',
      ['  r:', '    path: "{{work}}/r"', '    prelude: echo {{v}}', '    preflight_prelude: echo {{v}}', '    env: { V: "{{v}}" }'],
    );
    const r = await loadRecipe(path);
    const work = join(dir.path, 'work');
    const params = resolveParams(r, { builtins: builtins(work, dir.path), given: { v: '$(touch X); touch Y' } });
    const plan = await buildPlan(r, params, engineDeps(kindOptions({ work, record: false })).registry);
    expect(plan.steps[0]!.plan.detail.script).toBe(`echo '$(touch X); touch Y'\n`);
    expect(plan.roots.r!.prelude).toBe(`echo '$(touch X); touch Y'`);
    expect(plan.roots.r!.preflightPrelude).toBe(`echo '$(touch X); touch Y'`);
    expect(plan.roots.r!.env.V).toBe('$(touch X); touch Y');
  });

  it('refuses a {{raw:name}} of a parameter whose pattern admits shell syntax, naming file and line', async () => {
    for (const param of ['  v: { default: a }', '  v: { default: a, pattern: ".*" }', '  v: { default: a, pattern: "[^/]+" }', '  v: { default: a, pattern: "[a-z ]+" }']) {
      const path = recipe(dir.path, [param], 'echo {{raw:v}}');
      await expect(loadRecipe(path), param).rejects.toThrow(/recipe\.yaml:\d+: phases\[0\]\.steps\[0\]\.script: \{\{raw:v\}\} puts the value into the script as it is/);
    }
    await expect(loadRecipe(recipe(dir.path, [], 'cd {{raw:work}}'))).rejects.toThrow(/work is a path bootstrap sets/);
    await expect(loadRecipe(recipe(dir.path, [], 'true', ['  r:', '    path: /x', '    prelude: echo {{raw:plain}}']))).rejects.toThrow(/roots\.r\.prelude: \{\{raw:plain\}\}/);
    // Where a value goes in as it is anyway, raw means nothing and is refused.
    await expect(loadRecipe(recipe(dir.path, ['  v: { default: a, pattern: "[a-z]+" }'], 'true', ['  r:', '    path: /x/{{raw:v}}']))).rejects.toThrow(/roots\.r\.path: \{\{raw:v\}\} is for shell scripts only/);
    // Accepted: a pattern of safe characters only, and the numeric built-ins.
    const ok = await loadRecipe(recipe(dir.path, ['  v: { default: a, pattern: "[a-z0-9_]+-[a-z]+(\\\\.[0-9]+)?|yes|no" }'], 'echo "{{raw:v}} on {{raw:host_jobs}} jobs"'));
    expect(ok.file.name).toBe('t');
  });

  it('refuses a {{name}} inside quotes, a comment, a here-document or after a backslash', async () => {
    const cases: Array<[string, RegExp]> = [
      [`echo "at {{plain}}"`, /\{\{plain\}\} \(line 1 of the script\) stands inside double quotes/],
      [`echo '{{plain}}'`, /inside single quotes/],
      [`true\n# {{plain}}`, /\(line 2 of the script\) stands inside a comment/],
      [`cat <<EOF\n{{plain}}\nEOF`, /inside a here-document/],
      [`cat <<-'EOF'\n\t{{plain}}\n\tEOF`, /inside a here-document/],
      [`echo \\{{plain}}`, /stands after a backslash/],
      ['echo `echo {{plain}}`', /inside backquotes/],
      ['echo $(( {{plain}} + 1 ))', /inside arithmetic/],
    ];
    for (const [script, error] of cases) await expect(loadRecipe(recipe(dir.path, [], script)), script).rejects.toThrow(error);
  });

  it('reads shell quoting as the shell does', async () => {
    const contexts = (s: string) => placeholderContexts(s).map((u) => u.context);
    expect(contexts(`mkdir -p "$(dirname {{a}})" && x={{b}}/c # "{{c}}"`)).toEqual(['word', 'word', 'a comment']);
    expect(contexts(`echo "it's" {{a}} 'x'"$(echo "{{b}}")"`)).toEqual(['word', 'double quotes']);
    expect(contexts(`cat <<EOF >f\n{{a}}\nEOF\necho {{b}} <<<x`)).toEqual(['a here-document', 'word']);
    expect(contexts(`echo $'{{a}}' a#{{b}}`)).toEqual(['single quotes', 'word']);
  });

  it('tells a pattern that admits only shell-safe characters from one that does not', async () => {
    for (const safe of ['[0-9]+', 'yes|no', '[a-z0-9_]+-[a-z0-9_]+-linux-musl', '[A-Za-z0-9_.+-]+(/[A-Za-z0-9_.+-]+)*', '[0-9]+(\\.[0-9]+)?', '\\d{1,3}', '(?:ab)+', '[\\w.-]+', '']) {
      expect(patternIsShellSafe(safe), safe).toBe(true);
    }
    for (const unsafe of ['.*', '[^/]+', '\\S+', '[a-z ]+', '[!-~]+', 'a\\$b', '[a-z]+;', '\\x41', '(?<x>a)|\\k<x>', 'a{', '[]', '[ -/]', 'a|b c']) {
      expect(patternIsShellSafe(unsafe), unsafe).toBe(false);
    }
  });

  it('loads both shipped recipes', async () => {
    for (const name of ['demo', 'gentoo-2025']) expect((await loadRecipe(join(projectRoot, 'recipes', name, 'recipe.yaml'))).file.name).toBe(name);
  });
});
