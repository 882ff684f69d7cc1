import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, journalEvents, startCli, waitFor } from '../helpers/cli.js';
import { useDemoWork } from '../helpers/demo-work.js';

const PAIRS = 8;

describe('one run at a time in a work directory', () => {
  const demo = useDemoWork('bootstrap-workdir-');


  it(`of ${PAIRS} pairs of simultaneous resumes, exactly one of each gets in and the other is told who holds the lock`, async () => {
    expect((await cli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--until', 'slow', '--slow', '1'])).exitCode).toBe(0);
    for (let pair = 0; pair < PAIRS; pair++) {
      // The slow step holds the lock for a second: both of a pair ask for it meanwhile.
      const resume = () => cli(['resume', '--work', demo.work, '--plain', '--from', 'slow', '--until', 'slow']);
      const results = await Promise.all([resume(), resume()]);
      const codes = results.map((r) => r.exitCode).sort();
      expect(codes, `pair ${pair + 1}: ${results.map((r) => r.stderr).join('\n---\n')}`).toEqual([0, 2]);
      const loser = results.find((r) => r.exitCode === 2)!;
      expect(loser.stderr).toContain(`${demo.work} is in use by another bootstrap`);
      expect(loser.stderr).not.toContain('internal error');
    }
    const events = journalEvents(demo.work);
    expect(events.filter((e) => e.type === 'run-resumed')).toHaveLength(PAIRS);
    expect(events.filter((e) => e.type === 'step-started' && e.step === 'slow')).toHaveLength(PAIRS + 1);
  }, 180_000);

  it('status shows the step of a live run as running, with the run\'s pid; after the run stops, as interrupted', async () => {
    const run = startCli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--slow', '120']);
    demo.children.push(run);
    await waitFor(() => journalEvents(demo.work).some((e) => e.type === 'step-started' && e.step === 'slow'), 30_000, 'the slow step');
    const status = await cli(['status', '--work', demo.work]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/slow\s+running/);
    expect(status.stdout).not.toContain('interrupted');
    expect(status.stdout).toContain(`A run is in progress in this work directory (pid ${run.pid}`);
    const json = JSON.parse((await cli(['status', '--work', demo.work, '--json'])).stdout);
    expect(json.running).toMatchObject({ pid: run.pid });
    expect(json.steps.find((s: { step: string }) => s.step === 'slow').status).toBe('running');
    // status takes no lock: the run is not disturbed, and its lock file still names it.
    expect(JSON.parse(readFileSync(join(demo.work, 'lock'), 'utf8')).pid).toBe(run.pid);
    run.kill('SIGKILL');
    await run;
    // The kernel drops the lock once the helper has died with its orchestrator.
    let parsed = JSON.parse((await cli(['status', '--work', demo.work, '--json'])).stdout);
    for (let i = 0; i < 50 && parsed.running !== null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      parsed = JSON.parse((await cli(['status', '--work', demo.work, '--json'])).stdout);
    }
    expect(parsed.running).toBeNull();
    expect(parsed.steps.find((s: { step: string }) => s.step === 'slow').status).toBe('interrupted');
  }, 120_000);

  it('a run whose lock helper is killed stops as interrupted instead of running on unlocked', async () => {
    const run = startCli(['run', '--recipe', 'demo', '--work', demo.work, '--plain', '--slow', '120']);
    demo.children.push(run);
    await waitFor(() => journalEvents(demo.work).some((e) => e.type === 'step-started' && e.step === 'slow'), 30_000, 'the slow step');
    const { lockPid } = JSON.parse(readFileSync(join(demo.work, 'lock'), 'utf8')) as { lockPid: number };
    process.kill(lockPid, 'SIGKILL');
    const done = await run;
    expect(done.exitCode).toBe(143);
    expect(String(done.stderr)).toContain(`the lock of ${demo.work} was lost (its helper, pid ${lockPid}, ended)`);
    expect(journalEvents(demo.work).at(-1)).toMatchObject({ type: 'interrupted', step: 'slow', signal: 'SIGTERM' });
  }, 120_000);
});
