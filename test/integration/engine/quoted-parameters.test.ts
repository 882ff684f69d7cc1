import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, journalEvents, mountsUnder, waitFor } from '../../helpers/cli.js';
import { needsRoot, needsTool, tempDir } from '../../helpers/env.js';

/**
 * The attacks of issue 10, run for real as root with the demo recipe: a `--set` value and a
 * `--target` path carrying shell syntax reach the scripts as one quoted word, in the run and
 * again from the frozen values on resume. Each attack would `touch` a marker inside this
 * test's own temporary folder, so a failure shows there and harms nothing else.
 */
describe('parameters with shell syntax run nothing on the host', () => {
  let dir: { path: string; remove: () => void };
  let work: string;

  beforeEach((ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    dir = tempDir('bootstrap-quoting-');
    work = join(dir.path, 'work');
  });
  afterEach(async () => {
    if (dir) {
      await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
      dir.remove();
    }
  });

  /** Every path under the test folder named like the marker, wherever an attack put it. */
  const markers = (name: string): string[] => {
    const found: string[] = [];
    const walk = (d: string) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const path = join(d, entry.name);
        if (entry.name === name) found.push(path);
        if (entry.isDirectory() && !entry.isSymbolicLink()) walk(path);
      }
    };
    walk(dir.path);
    return found;
  };

  it('--set busybox="/bin/busybox; touch X": the step looks for a busybox of that name, in the run and on resume', async () => {
    const marker = join(dir.path, 'PWNED-busybox');
    const result = await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--set', `busybox=/bin/busybox; touch ${marker}`]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).toContain(`no busybox at /bin/busybox; touch ${marker}`);
    expect(existsSync(marker)).toBe(false);
    // The frozen value runs again on resume: still one word.
    const resumed = await cli(['resume', '--work', work, '--plain']);
    expect(resumed.exitCode).toBe(1);
    expect(journalEvents(work).filter((e) => e.type === 'step-started' && e.step === 'busybox-root')).toHaveLength(2);
    expect(existsSync(marker)).toBe(false);
    expect(markers('PWNED-busybox')).toEqual([]);
  });

  it("--target '/tmp/t$(touch X)': the root is built at that literal path and nothing else runs, in the run and on resume", async () => {
    const target = join(dir.path, `t$(touch ${join(dir.path, 'PWNED-target')})`);
    const result = await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--target', target, '--set', 'fail=yes']);
    expect(result.exitCode).toBe(1);
    expect(journalEvents(work).some((e) => e.type === 'step-failed' && e.step === 'check')).toBe(true);
    expect(statSync(join(target, 'bin/busybox')).isFile()).toBe(true);
    const resumed = await cli(['resume', '--work', work, '--plain', '--set', 'fail=no']);
    expect(resumed.exitCode).toBe(0);
    expect(readFileSync(join(work, 'logs/009-report.1.log'), 'utf8')).toContain(`The demo root is ready at ${target}\n`);
    expect(existsSync(join(dir.path, 'PWNED-target'))).toBe(false);
    expect(markers('PWNED-target')).toEqual([]);
  });
});
