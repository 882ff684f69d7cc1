import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { useDemoWork } from '../helpers/demo-work.js';
import { cli, journalEvents, mountsUnder, processesRootedIn, startCli, waitFor } from '../helpers/cli.js';
import { needsRoot, needsTool, projectRoot, tempDir } from '../helpers/env.js';

const started = (work: string, step: string) => () =>
  journalEvents(work).some((e) => e.type === 'step-started' && e.step === step);
const startsOf = (work: string, step: string) => journalEvents(work).filter((e) => e.type === 'step-started' && e.step === step).length;

describe('the demo recipe, end to end through the CLI', () => {
  const demo = useDemoWork('bootstrap-e2e-');


  it('runs cleanly: every step done, files rendered into the root, one log per step', async () => {
    const result = await cli(['run', '--recipe', 'demo', '--work', demo.work, '--plain']);
    expect(result.stderr).not.toContain('error');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('Run finished');
    const root = join(demo.work, 'demo-root');
    expect(readFileSync(join(root, 'etc/motd'), 'utf8')).toContain('Hello from a root built by bootstrap');
    expect(readFileSync(join(root, 'var/lib/demo/greeting'), 'utf8')).toContain('Hello from a root built by bootstrap');
    const status = JSON.parse((await cli(['status', '--work', demo.work, '--json'])).stdout);
    expect(status.finished).toBe(true);
    expect(status.steps.map((s: { status: string }) => s.status)).toEqual(Array(status.steps.length).fill('done'));
    for (const s of status.steps) expect(existsSync(s.log)).toBe(true);
    const sandbox = readFileSync(status.steps.find((s: { step: string }) => s.step === 'sandbox-check').log, 'utf8');
    expect(sandbox).toContain('/tmp is a fresh tmpfs');
    expect(sandbox).toContain('/dev/shm is writable');
    expect(mountsUnder(root)).toEqual([]);
  });

  it('writes provenance that audit verifies; one changed byte of the seed or the journal fails it; the seed is reproducible', async () => {
    expect((await cli(['run', '--recipe', 'demo', '--work', demo.work, '--plain'])).exitCode).toBe(0);
    const seed = join(demo.work, 'stage/demo-stage.tar.xz');
    const provenance = JSON.parse(readFileSync(join(demo.work, 'stage/provenance.json'), 'utf8'));
    expect(provenance.subject[0].name).toBe('demo-stage.tar.xz');
    const audit = await cli(['audit', '--work', demo.work, '--stage', seed]);
    expect(audit.stdout).toContain('audit passed');
    expect(audit.exitCode).toBe(0);

    // A second run elsewhere packs the same bytes.
    const other = join(demo.dir.path, 'other');
    expect((await cli(['run', '--recipe', 'demo', '--work', other, '--plain'])).exitCode).toBe(0);
    expect(readFileSync(join(other, 'stage/demo-stage.tar.xz')).equals(readFileSync(seed))).toBe(true);

    const original = readFileSync(seed);
    const flipped = Buffer.from(original);
    flipped[flipped.length - 100] ^= 0xff;
    writeFileSync(seed, flipped);
    const badSeed = await cli(['audit', '--work', demo.work]);
    expect(badSeed.exitCode).toBe(1);
    expect(badSeed.stdout).toMatch(/sha512 of .*demo-stage\.tar\.xz differs/);
    writeFileSync(seed, original);

    const journal = join(demo.work, 'journal.jsonl');
    const text = readFileSync(journal, 'utf8');
    writeFileSync(journal, text.replace('"durationMs":', '"durationMs": '));
    const badJournal = await cli(['audit', '--work', demo.work]);
    expect(badJournal.exitCode).toBe(1);
    expect(badJournal.stdout).toMatch(/journal/i);
    writeFileSync(journal, text);
    expect((await cli(['audit', '--work', demo.work])).exitCode).toBe(0);
  });

  it('draws the step tree in a terminal (listr2), with the last output lines and a timer per step', async (ctx) => {
    needsTool(ctx, 'script', 'bsdutils');
    const command = `stty cols 120 rows 40; ${process.execPath} ${join(projectRoot, 'bin/bootstrap.js')} run --recipe demo --work ${demo.work}`;
    const result = await execa('script', ['-qec', command, '/dev/null'], { reject: false, env: { TERM: 'xterm', CI: '', NO_COLOR: '1' } });
    expect(result.exitCode).toBe(0);
    const screen = String(result.stdout).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    for (const step of ['busybox-root', 'probe', 'config', 'check', 'pack', 'report']) expect(screen).toMatch(new RegExp(`✔ ${step} \\[[0-9.]+m?s\\]`));
    expect(screen).toContain('› all checks passed');
    expect(screen).toContain('Run finished.');
    // A second run shows each step's duration from the first as its estimate.
    const again = await execa('script', ['-qec', `${command} --fresh`, '/dev/null'], { reject: false, env: { TERM: 'xterm', CI: '', NO_COLOR: '1' } });
    expect(again.exitCode).toBe(0);
    expect(String(again.stdout)).toMatch(/pack \(took 0:0\d last time\)/);
  });

  it('in a terminal too, SIGINT records interrupted and exits 130 (listr2 does not exit first)', async (ctx) => {
    needsTool(ctx, 'script', 'bsdutils');
    const command = `stty cols 120 rows 40; ${process.execPath} ${join(projectRoot, 'bin/bootstrap.js')} run --recipe demo --work ${demo.work} --slow 120; echo "exit=$?"`;
    const tty = execa('script', ['-qec', command, '/dev/null'], { reject: false, stdin: 'pipe', env: { TERM: 'xterm', CI: '', NO_COLOR: '1' } });
    demo.children.push(tty);
    await waitFor(started(demo.work, 'slow'), 30_000, 'the slow step');
    // The bootstrap process itself, not the script(1) or sh whose arguments also name it.
    const pid = execFileSync('pgrep', ['-f', `^${process.execPath} \\S*bootstrap.js run --recipe demo --work ${demo.work}`], { encoding: 'utf8' }).trim();
    process.kill(Number(pid), 'SIGINT');
    const result = await tty;
    expect(String(result.stdout)).toContain('exit=130');
    expect(journalEvents(demo.work).at(-1)).toMatchObject({ type: 'interrupted', step: 'slow', signal: 'SIGINT' });
  });

  it('reports progress as JSON lines with --json', async () => {
    const result = await cli(['run', '--recipe', 'demo', '--work', demo.work, '--json']);
    expect(result.exitCode).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ event: 'run-starting', startIndex: 0 });
    const finished = events.filter((e) => e.event === 'step-finished').map((e) => e.step);
    expect(finished).toEqual(events[0].steps);
    expect(events.some((e) => e.event === 'step-output' && e.step === 'check' && e.line === 'all checks passed')).toBe(true);
  });

  it('stops at a failing step with its tail, log and resume command; resume finishes without redoing earlier steps', async () => {
    const failed = await cli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--fail', 'yes']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain('step check failed');
    expect(failed.stderr).toContain('failing on purpose');
    expect(failed.stderr).toMatch(/full log: .*007-check\.1\.log/);
    expect(failed.stderr).toContain(`bootstrap resume --work ${demo.work}`);
    const status = await cli(['status', '--work', demo.work]);
    expect(status.stdout).toMatch(/check\s+failed/);
    expect(status.stdout).toContain('resume starts at check');

    const resumed = await cli(['resume', '--work', demo.work, '--plain', '--set', 'fail=no']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stderr).toContain('Resumed from step check (in the last run, step check failed)');
    for (const step of ['busybox-root', 'probe', 'config', 'inventory', 'slow']) expect(startsOf(demo.work, step)).toBe(1);
    expect(startsOf(demo.work, 'check')).toBe(2);
    expect(existsSync(join(demo.work, 'logs/007-check.2.log'))).toBe(true);
    const again = await cli(['resume', '--work', demo.work]);
    expect(again.stdout).toContain('Nothing to do');
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} in the slow step stops its process tree, records interrupted and exits ${signal === 'SIGINT' ? 130 : 143}`, async () => {
      const run = startCli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--slow', '120']);
      demo.children.push(run);
      await waitFor(started(demo.work, 'slow'), 30_000, 'the slow step');
      const root = join(demo.work, 'demo-root');
      await waitFor(() => processesRootedIn(root).length > 0, 10_000, 'the sleep to start');
      run.kill(signal);
      const result = await run;
      expect(result.exitCode).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(String(result.stderr)).toContain('Interrupted');
      const last = journalEvents(demo.work).at(-1)!;
      expect(last).toMatchObject({ type: 'interrupted', step: 'slow', signal });
      await waitFor(() => mountsUnder(root).length === 0 && processesRootedIn(root).length === 0, 5_000, 'mounts and processes to go');
      const resumed = await cli(['resume', '--work', demo.work, '--plain', '--slow', '0']);
      expect(resumed.exitCode).toBe(0);
      expect(startsOf(demo.work, 'inventory')).toBe(1);
      expect(startsOf(demo.work, 'slow')).toBe(2);
    });
  }

  it('after kill -9 of the orchestrator nothing is left under the target, and resume re-runs the step', async () => {
    const run = startCli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--slow', '120']);
    demo.children.push(run);
    await waitFor(started(demo.work, 'slow'), 30_000, 'the slow step');
    const root = join(demo.work, 'demo-root');
    await waitFor(() => processesRootedIn(root).length > 0, 10_000, 'the sleep to start');
    expect(mountsUnder(root)).toEqual([]); // the mounts live in the step's own namespace
    run.kill('SIGKILL');
    await run;
    await waitFor(() => processesRootedIn(root).length === 0, 5_000, 'processes in the root to die');
    expect(mountsUnder(root)).toEqual([]);
    expect(journalEvents(demo.work).at(-1)).toMatchObject({ type: 'step-started', step: 'slow' });
    const status = await cli(['status', '--work', demo.work]);
    expect(status.stdout).toMatch(/slow\s+interrupted/);
    // The dead run's lock is stale and is taken over.
    const resumed = await cli(['resume', '--work', demo.work, '--plain', '--slow', '0']);
    expect(resumed.exitCode).toBe(0);
    expect(startsOf(demo.work, 'slow')).toBe(2);
    expect(startsOf(demo.work, 'check')).toBe(1);
  });

  it('re-runs from a step whose recipe files changed, and reports it', async () => {
    const recipe = join(demo.dir.path, 'recipe');
    cpSync(join(projectRoot, 'recipes/demo'), recipe, { recursive: true });
    expect((await cli(['run', '--recipe', recipe, '--work', demo.work, '--plain'])).exitCode).toBe(0);
    appendFileSync(join(recipe, 'files/demo/etc/motd'), 'A changed line.\n');
    const status = await cli(['status', '--work', demo.work]);
    expect(status.stdout).toMatch(/config\s+changed/);
    expect(status.stdout).toContain('resume starts at config');
    const resumed = await cli(['resume', '--work', demo.work, '--plain']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stderr).toContain('step config changed in the recipe');
    expect(startsOf(demo.work, 'probe')).toBe(1);
    expect(startsOf(demo.work, 'config')).toBe(2);
    expect(startsOf(demo.work, 'check')).toBe(2);
    expect(readFileSync(join(demo.work, 'demo-root/etc/motd'), 'utf8')).toContain('A changed line.');
  });

  it('refuses a second run on a work directory in use, naming the holder', async () => {
    const run = startCli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--slow', '120']);
    demo.children.push(run);
    await waitFor(started(demo.work, 'slow'), 30_000, 'the slow step');
    const before = readFileSync(join(demo.work, 'journal.jsonl'), 'utf8');
    const second = await cli(['resume', '--work', demo.work, '--plain']);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain(`is in use by another bootstrap (pid ${run.pid}`);
    const third = await cli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--fresh']);
    expect(third.exitCode).toBe(2);
    expect(readFileSync(join(demo.work, 'journal.jsonl'), 'utf8')).toBe(before);
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(130);
  });

  it('writes through a planted absolute link inside the root, never to the host', async () => {
    const outside = join(demo.dir.path, 'host-etc');
    mkdirSync(outside);
    const recipe = join(demo.dir.path, 'escape');
    mkdirSync(join(recipe, 'files'), { recursive: true });
    writeFileSync(join(recipe, 'files/escape.conf'), 'written by the escape test\n');
    writeFileSync(
      join(recipe, 'recipe.yaml'),
      [
        'name: escape',
        'version: 1',
        'description: plants etc -> an absolute host path, then writes /etc/escape.conf',
        'roots:',
        '  r: { path: "{{work}}/root", shell: [/bin/sh] }',
        'phases:',
        '  - id: all',
        '    steps:',
        '      - id: plant',
        '        kind: run',
        '        root: host',
        `        script: mkdir -p {{work}}/root && ln -s ${outside} {{work}}/root/etc`,
        '      - id: write',
        '        kind: write',
        '        root: r',
        '        files: [{ src: escape.conf, dest: /etc/escape.conf }]',
      ].join('\n'),
    );
    const result = await cli(['run', '--recipe', recipe, '--work', demo.work, '--plain']);
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(outside, 'escape.conf'))).toBe(false);
    expect(readFileSync(join(demo.work, 'root', outside, 'escape.conf'), 'utf8')).toBe('written by the escape test\n');
  });
});

describe('bad input: one clear message, nothing lost', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-bad-');
  });
  afterEach(() => dir.remove());

  it('names an unknown recipe, parameter and step', async () => {
    const work = join(dir.path, 'w');
    const unknownRecipe = await cli(['plan', '--recipe', 'nope', '--work', work]);
    expect(unknownRecipe.exitCode).toBe(2);
    expect(unknownRecipe.stderr).toContain('no recipe named nope');
    const unknownParam = await cli(['plan', '--recipe', 'demo', '--work', work, '--set', 'colour=blue']);
    expect(unknownParam.exitCode).toBe(2);
    expect(unknownParam.stderr).toContain('recipe demo has no parameter colour');
    expect(unknownParam.stderr).toContain('slow');
    const badValue = await cli(['plan', '--recipe', 'demo', '--work', work, '--slow', 'soon']);
    expect(badValue.exitCode).toBe(2);
    expect(badValue.stderr).toContain('parameter slow="soon" does not match [0-9]+');
    const unknownStep = await cli(['run', '--recipe', 'demo', '--work', work, '--until', 'nope']);
    expect(unknownStep.exitCode).toBe(2);
    expect(unknownStep.stderr).toContain('--until nope: recipe demo has no step nope');
    expect(existsSync(join(work, 'journal.jsonl'))).toBe(false);
  });

  it('reports a schema error with file, line and field', async () => {
    const recipe = join(dir.path, 'broken');
    mkdirSync(recipe);
    writeFileSync(
      join(recipe, 'recipe.yaml'),
      ['name: broken', 'version: 1', 'description: x', 'phases:', '  - id: p', '    steps:', '      - id: s', '        kind: run', '        root: host', '        scrip: echo'].join('\n'),
    );
    const result = await cli(['plan', '--recipe', recipe]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${recipe}/recipe.yaml:`);
    expect(result.stderr).toMatch(/recipe\.yaml:\d+: phases\[0\]\.steps\[0\]/);
    expect(result.stderr).toContain('scrip');
  });

  it('refuses a corrupt or foreign journal and leaves it as it was', async () => {
    const work = join(dir.path, 'w');
    mkdirSync(work);
    const foreign = '{"hello": "world"}\n';
    writeFileSync(join(work, 'journal.jsonl'), foreign);
    for (const args of [['status'], ['resume']]) {
      const result = await cli([...args, '--work', work]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain('is not a bootstrap journal');
    }
    expect(readFileSync(join(work, 'journal.jsonl'), 'utf8')).toBe(foreign);
    const started = { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: 't', runId: 'r', recipe: { name: 'demo', version: '1', path: '/nonexistent/recipe.yaml', digest: 'd' }, params: {}, given: {}, steps: [] };
    const corrupt = `${JSON.stringify(started)}\nnot json\n{}\n`;
    writeFileSync(join(work, 'journal.jsonl'), corrupt);
    const result = await cli(['resume', '--work', work]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('line 2 is not valid JSON');
    expect(readFileSync(join(work, 'journal.jsonl'), 'utf8')).toBe(corrupt);
  });

  it('plans without root, and refuses to run chroot steps without it', async (ctx) => {
    needsRoot(ctx); // to switch to an unprivileged user
    const work = join(dir.path, 'w');
    const asNobody = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(projectRoot, 'bin/bootstrap.js')];
    const plan = await execa('setpriv', [...asNobody, 'plan', '--recipe', 'demo', '--work', work], { reject: false });
    expect(plan.exitCode).toBe(0);
    expect(plan.stdout).toContain('sandbox-check');
    const run = await execa('setpriv', [...asNobody, 'run', '--recipe', 'demo', '--work', work], { reject: false, env: { NO_COLOR: '1' } });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('step probe runs in root demo and needs root privileges');
    expect(existsSync(work)).toBe(false);
  });

  it('says there is no run to resume', async () => {
    const result = await cli(['resume', '--work', join(dir.path, 'missing')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('no work directory');
  });
});
