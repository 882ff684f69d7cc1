import { execa } from 'execa';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, type CliResult } from '../helpers/cli.js';
import { needsRoot, projectRoot, tempDir } from '../helpers/env.js';

/** Exit 2, one clear message, and no stack trace. */
function expectBadInput(result: CliResult, message: string | RegExp): void {
  expect(result.stderr).not.toContain('internal error');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).toMatch(message);
  expect(result.exitCode).toBe(2);
}

const HOST_RECIPE = ['name: host-only', 'version: 1', 'description: one step on the host', 'phases:', '  - id: p', '    steps:', '      - id: hello', '        kind: run', '        root: host', '        script: echo hello'].join('\n');

describe('bad --work and --dest paths, and a YAML alias bomb: exit 2 and a message', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-bad-paths-');
  });
  afterEach(() => dir.remove());

  it('a file where the work directory (or one of its parents) should be', async () => {
    const file = join(dir.path, 'file');
    writeFileSync(file, 'not a directory\n');
    for (const work of [file, join(file, 'sub')]) {
      for (const command of [['run', '--recipe', 'demo'], ['plan', '--recipe', 'demo'], ['preflight', '--recipe', 'demo']]) {
        expectBadInput(await cli([...command, '--work', work]), `--work ${work} cannot be used as a work directory: ${file} is a file, not a directory`);
      }
      for (const command of [['status'], ['resume']]) expectBadInput(await cli([...command, '--work', work]), `no work directory at ${work}`);
    }
    expect(readFileSync(file, 'utf8')).toBe('not a directory\n');
  });

  it('a work directory bootstrap may not write to', async (ctx) => {
    needsRoot(ctx); // to run as an unprivileged user
    const recipe = join(dir.path, 'recipe');
    mkdirSync(recipe);
    writeFileSync(join(recipe, 'recipe.yaml'), HOST_RECIPE);
    const closed = join(dir.path, 'closed');
    mkdirSync(closed);
    chmodSync(dir.path, 0o755);
    chmodSync(closed, 0o755);
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(projectRoot, 'bin/bootstrap.js')];
    const run = await execa('setpriv', [...asNobody, 'run', '--recipe', recipe, '--work', join(closed, 'w'), '--plain'], { reject: false, env: { NO_COLOR: '1' } });
    expectBadInput({ exitCode: run.exitCode ?? -1, stdout: String(run.stdout), stderr: String(run.stderr) }, `--work ${join(closed, 'w')} cannot be used as a work directory: permission denied`);
    const resume = await execa('setpriv', [...asNobody, 'resume', '--work', closed], { reject: false, env: { NO_COLOR: '1' } });
    expectBadInput({ exitCode: resume.exitCode ?? -1, stdout: String(resume.stdout), stderr: String(resume.stderr) }, `--work ${closed} cannot be used as a work directory: permission denied`);
  });

  it('a file where lock verify --dest expects a directory', async () => {
    const file = join(dir.path, 'file');
    writeFileSync(file, '');
    expectBadInput(await cli(['lock', 'verify', '--dest', file]), /ENOTDIR: not a directory, stat '.*\/file\//);
  });

  it('a recipe that is a YAML alias bomb (billion laughs) is refused, naming the file', async () => {
    const recipe = join(dir.path, 'bomb');
    mkdirSync(recipe);
    const lines = ['name: bomb', 'version: 1', 'description: x', 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    let previous = 'a';
    for (const name of 'bcdefghi') {
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
      previous = name;
    }
    lines.push('phases: []');
    writeFileSync(join(recipe, 'recipe.yaml'), `${lines.join('\n')}\n`);
    expectBadInput(await cli(['plan', '--recipe', recipe]), `${recipe}/recipe.yaml: Excessive alias count`);
  });

  it('a hand-edited journal (an attempt that is not a number) is refused by status and resume, naming its line, and left as it was', async () => {
    const work = join(dir.path, 'w');
    mkdirSync(work);
    const events = [
      { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: 't', runId: 'r', recipe: { name: 'demo', version: '1', path: join(projectRoot, 'recipes/demo/recipe.yaml'), digest: 'd' }, params: {}, given: {}, steps: ['busybox-root'] },
      { type: 'step-started', time: 't', step: 'busybox-root', attempt: 'x', fingerprint: 'f', log: join(work, 'logs/001-busybox-root.x.log') },
    ];
    const text = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    writeFileSync(join(work, 'journal.jsonl'), text);
    for (const command of ['status', 'resume']) {
      expectBadInput(await cli([command, '--work', work]), `${work}/journal.jsonl line 2 is not a valid step-started event: attempt`);
    }
    expect(readFileSync(join(work, 'journal.jsonl'), 'utf8')).toBe(text);
  });
});


describe('a script over Linux\'s limit on one argument is refused when planning', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-script-size-');
  });
  afterEach(() => dir.remove());

  const LIMIT = 128 * 1024 - 1;
  const recipe = (prelude: number, steps: string[]) =>
    [
      'name: big',
      'version: 1',
      'description: scripts near the limit',
      'roots:',
      `  r: { path: "{{work}}/root", shell: [/bin/sh], prelude: "# ${'p'.repeat(prelude)}" }`,
      'phases:',
      '  - id: p',
      '    steps:',
      ...steps,
    ].join('\n');

  for (const [what, prelude, step, id] of [
    ['a run step on the host', 0, `      - { id: long, kind: run, root: host, script: "# ${'x'.repeat(LIMIT)}" }`, 'long'],
    ['a run step that fits alone but not with its root\'s prelude', 100_000, `      - { id: with-prelude, kind: run, root: r, script: "# ${'x'.repeat(40_000)}" }`, 'with-prelude'],
    ['an emerge step with its root\'s prelude', LIMIT, '      - { id: merge, kind: emerge, root: r, args: [sys-apps/busybox] }', 'merge'],
  ] as const) {
    it(`${what}: plan and run exit 2 naming the step, and nothing runs`, async () => {
      const folder = join(dir.path, 'recipe');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'recipe.yaml'), recipe(prelude, [step]));
      const work = join(dir.path, 'work');
      for (const command of ['plan', 'run']) {
        expectBadInput(await cli([command, '--recipe', folder, '--work', work]), new RegExp(`step ${id}: the script, with its root's prelude, is \\d+ bytes; Linux passes at most ${LIMIT} in one argument`));
      }
      expect(existsSync(work)).toBe(false);
    });
  }

  it('a script just under the limit plans', async () => {
    const folder = join(dir.path, 'recipe');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'recipe.yaml'), recipe(0, [`      - { id: fits, kind: run, root: host, script: "# ${'x'.repeat(LIMIT - 3)}" }`]));
    const result = await cli(['plan', '--recipe', folder, '--work', join(dir.path, 'work'), '--json']);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });
});
