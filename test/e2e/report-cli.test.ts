import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/engine/reporter.js';
import { cli, journalEvents, mountsUnder, startCli, waitFor } from '../helpers/cli.js';
import { needsRoot, needsTool, tempDir } from '../helpers/env.js';
import { syntheticRun } from '../unit/report/synthetic-run.js';

/** xmllint's and rsvg-convert's verdicts on a picture: both must pass without a word on stderr. */
function checkWithDebianTools(svg: string, png: string): void {
  const lint = spawnSync('xmllint', ['--noout', svg], { encoding: 'utf8' });
  expect(lint.stderr).toBe('');
  expect(lint.status).toBe(0);
  const render = spawnSync('rsvg-convert', ['--format', 'png', '--output', png, svg], { encoding: 'utf8' });
  expect(render.stderr).toBe('');
  expect(render.status).toBe(0);
  expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
}

const needsRenderers = (ctx: { skip: (note?: string) => void }) => {
  needsTool(ctx, 'xmllint', 'libxml2-utils');
  needsTool(ctx, 'rsvg-convert', 'librsvg2-bin');
};

describe('bootstrap report', () => {
  let dir: { path: string; remove: () => void };
  const children: Array<{ kill: (signal?: NodeJS.Signals) => boolean }> = [];
  beforeEach(() => {
    dir = tempDir('bootstrap-report-e2e-');
  });
  afterEach(async () => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
    dir.remove();
  });

  it('the demo run, interrupted, failed and resumed: every attempt with its status and the journal\'s duration; XML; PNG', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    needsRenderers(ctx);
    const work = join(dir.path, 'work');
    const run = startCli(['run', '--recipe', 'demo', '--work', work, '--plain', '--slow', '120', '--fail', 'yes']);
    children.push(run);
    await waitFor(() => journalEvents(work).some((e) => e.type === 'step-started' && e.step === 'slow'), 30_000, 'the slow step');
    await new Promise((r) => setTimeout(r, 1500));
    // A picture of the run while it is going: the slow step is running.
    const going = await cli(['report', '--work', work, '--json']);
    expect(going.exitCode).toBe(0);
    const live = JSON.parse(going.stdout);
    expect(live.state).toBe('running');
    expect(live.phases.flatMap((p: { steps: unknown[] }) => p.steps).find((s: { id: string }) => s.id === 'slow').attempts[0].status).toBe('running');
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(130);
    expect((await cli(['resume', '--work', work, '--plain', '--set', 'slow=0'])).exitCode).toBe(1);
    expect((await cli(['resume', '--work', work, '--plain', '--set', 'fail=no'])).exitCode).toBe(0);

    const out = join(dir.path, 'demo.svg');
    const result = await cli(['report', '--work', work, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const events = journalEvents(work);
    const steps = (events[0]!.steps as string[]).length;
    expect(result.stdout).toMatch(new RegExp(`Wrote .*demo\\.svg \\(\\d+ KiB\\): ${steps} steps, ${events.filter((e) => e.type === 'step-started').length} attempts, 0 packages\\.`));
    const svg = readFileSync(out, 'utf8');
    checkWithDebianTools(out, join(dir.path, 'demo.png'));
    for (const e of events.filter((x) => x.type === 'step-finished' || x.type === 'step-failed')) {
      const status = e.type === 'step-failed' ? `failed with exit status ${e.exitCode}` : 'done';
      expect(svg).toMatch(new RegExp(`${e.step} attempt ${e.attempt}: ${status}\\n[^\\n]* \\(${formatDuration(e.durationMs as number)}\\)`));
    }
    expect(svg).toContain('slow attempt 1: interrupted by SIGINT');
    expect(svg).toContain('check attempt 1: failed with exit status 3');
    expect(svg).toMatch(/>exit 3</);
    expect(svg).toContain('then resume from slow');
    const json = JSON.parse((await cli(['report', '--work', work, '--json'])).stdout);
    expect(json.state).toBe('finished');
    expect(json.invocations.map((i: { kind: string; ended: string }) => `${i.kind}:${i.ended}`)).toEqual(['run:interrupted', 'resume:failed', 'resume:finished']);
    const check = json.phases.flatMap((p: { steps: unknown[] }) => p.steps).find((s: { id: string }) => s.id === 'check');
    const failed = events.find((e) => e.type === 'step-failed' && e.step === 'check')!;
    expect(check.attempts[0]).toMatchObject({ status: 'failed', exitCode: 3, durationMs: failed.durationMs });
    const table = await cli(['report', '--work', work, '--table', '--top', '3']);
    expect(table.stdout).toMatch(/Slowest step attempts \(3 of \d+\)/);
    expect(table.stdout).toContain('Slowest packages (0 of 0)');
  });

  it('a chain of 360 steps and 2,000 packages: under 1 MB, XML, PNG, every step and package with the log\'s duration; no root needed', async (ctx) => {
    needsRenderers(ctx);
    const run = syntheticRun(dir.path, { phases: 12, stepsPerPhase: 30, emergeEvery: 4, packages: 2000 });
    const out = join(dir.path, 'chain.svg');
    const result = await cli(['report', '--work', run.work, '--out', out]);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/360 steps, 361 attempts, 2001 packages\.$/m);
    expect(statSync(out).size).toBeLessThan(1024 * 1024);
    checkWithDebianTools(out, join(dir.path, 'chain.png'));
    const svg = readFileSync(out, 'utf8');
    for (const step of run.steps) expect(svg).toContain(`<title>${step.id} (${step.kind})`);
    for (const [name, ms] of run.packages) expect(svg).toMatch(new RegExp(`${name.replace(/[.]/g, '\\.')} \\(\\d+ of \\d+\\) to /: [^\\n]* \\(${formatDuration(ms)}\\)`));
    expect(svg).toContain(`${run.failedPackage} (`);
    expect(svg).toContain("emerge exit status 1");
  });

  it('bad input: a torn emerge.log line, a journal still going and a torn journal line give a picture and notes, exit 0', async (ctx) => {
    needsRenderers(ctx);
    const run = syntheticRun(dir.path, { phases: 3, stepsPerPhase: 5, emergeEvery: 2, packages: 40, stillGoing: true, tornLog: true, start: Date.now() - 16 * 3600_000 });
    writeFileSync(join(run.work, 'journal.jsonl'), `${readFileSync(join(run.work, 'journal.jsonl'), 'utf8')}{"type":"step-fin`);
    const out = join(dir.path, 'going.svg');
    const result = await cli(['report', '--work', run.work, '--out', out]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/, 4 notes\./);
    checkWithDebianTools(out, join(dir.path, 'going.png'));
    expect(readFileSync(out, 'utf8')).toContain('still merging');
    // The notes, as the picture wraps them into lines, read whole in --json.
    const notes = () => cli(['report', '--work', run.work, '--json']).then((r) => (JSON.parse(r.stdout).notes as string[]).join('\n'));
    const said = await notes();
    expect(said).toContain('the run is still going');
    expect(said).toContain("The journal's last line is torn (17 bytes");
    expect(said).toContain('is not an emerge.log line (torn?): "17369"');
    // A journal damaged in the middle: the lines that still read, and a note.
    const lines = readFileSync(join(run.work, 'journal.jsonl'), 'utf8').split('\n');
    lines[3] = '{"type": broken';
    writeFileSync(join(run.work, 'journal.jsonl'), lines.join('\n'));
    const damaged = await cli(['report', '--work', run.work, '--out', out]);
    expect(damaged.exitCode).toBe(0);
    checkWithDebianTools(out, join(dir.path, 'damaged.png'));
    expect(await notes()).toMatch(/line 4 is not valid JSON; the journal is corrupt\. Shown: the \d+ journal lines/);
  });
  // A real emerge.log from real Portage: test/real/real-portage.test.ts reports its real builds.

});
