// Issue 11, "What a user expects on a long run": in a terminal (a pty from script(1)), the running
// step shows [n/N], its phase, its elapsed time and an ETA for the step and the run from the last
// run's durations; skipped steps are not drawn with a warning glyph; the plain view says the same.
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, mountsUnder, waitFor } from '../helpers/cli.js';
import { needsRoot, needsTool, projectRoot, tempDir } from '../helpers/env.js';

let dir: { path: string; remove: () => void };

beforeEach(() => {
  dir = tempDir('bootstrap-terminal-view-');
});
afterEach(async () => {
  await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
  dir.remove();
});

async function inTerminal(args: string): Promise<string> {
  const command = `stty cols 160 rows 50; ${process.execPath} ${join(projectRoot, 'bin/bootstrap.js')} ${args}; echo "exit=$?"`;
  const result = await execa('script', ['-qec', command, '/dev/null'], { reject: false, stdin: 'pipe', env: { TERM: 'xterm', CI: '', NO_COLOR: '1' } });
  return String(result.stdout);
}

describe('the terminal view of a long run', () => {
  it('shows [n/N], the phase, elapsed time and ETAs for the running step; skipped steps without ⚠', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    needsTool(ctx, 'script', 'bsdutils');
    const work = join(dir.path, 'demo');
    expect((await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--fail', 'yes'])).exitCode).toBe(1);
    const resumed = await inTerminal(`resume --work ${work} --set fail=no`);
    expect(resumed).toContain('exit=0');
    expect(resumed).not.toContain('⚠');
    expect(resumed).toContain('busybox-root: done earlier, unchanged');
    const again = await inTerminal(`run --recipe demo --work ${work} --fresh --slow 3`);
    expect(again).toContain('exit=0');
    expect(again).toMatch(/\[6\/9\] build › slow: 0:0\d elapsed, ETA 0:0\d for the step \((took 0:0\d last time|longer than last time)\), (at least )?0:\d\d for the run/);
  });

  it('the plain view says the phase and the ETAs when a step starts', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    const work = join(dir.path, 'demo');
    expect((await cli(['run', '--recipe', 'demo', '--work', work, '--plain'])).exitCode).toBe(0);
    const again = await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--fresh']);
    expect(again.exitCode).toBe(0);
    expect(again.stderr).toMatch(/\[6\/9\] slow: started \(phase build\) \(attempt 2\), ETA 0:0\d for the step \(took 0:0\d last time\), 0:\d\d for the run; log /);
  });
});

describe("the demo's report at the end of the run (show_output)", () => {
  it('prints where the root is and how to enter it after the run, also with -q; --json carries it in run-ended', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    const work = join(dir.path, 'demo');
    const quiet = await cli(['run', '--recipe', 'demo', '--work', work, '-q']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stdout).toMatch(/--- report ---\nThe demo root is ready at .*\nEnter it with: sudo chroot .* \/bin\/sh -l\n/);
    expect(quiet.stdout.trim().split('\n').at(-1)).toMatch(/^Run finished\./);
    const json = await cli(['run', '--recipe', 'demo', '--work', work, '--fresh', '--json']);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1)!);
    expect(last.shown.report.join('\n')).toContain('Enter it with: sudo chroot');
  });
});
