// Issue 11, the rest of "A newcomer's first hour": an empty --target, --json that always ends
// with a final line, resume's last words, -q/-v, the step ETA view and the demo's report shown at
// the end. Each test failed before its change.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, mountsUnder, waitFor } from '../helpers/cli.js';
import { needsRoot, needsTool, tempDir } from '../helpers/env.js';

let dir: { path: string; remove: () => void };

beforeEach(() => {
  dir = tempDir('bootstrap-newcomer-long-');
});
afterEach(async () => {
  await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
  dir.remove();
});

const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

describe('an empty --target (item 4)', () => {
  it('run says the folder is not live-bootstrap output, not "cannot detect parameter lb_chost"', async () => {
    const target = join(dir.path, 'empty');
    mkdirSync(target);
    const result = await cli(['run', '--target', target, '--work', join(dir.path, 'work')]);
    expect(result.stderr).not.toContain('cannot detect parameter');
    expect(result.stderr).toContain(`${target} is not live-bootstrap output (no steps/manifest in it)`);
    expect(result.exitCode).toBe(2);
  });

  it('doctor --target runs the same check and does not say the host is ready', async () => {
    const target = join(dir.path, 'empty');
    mkdirSync(target);
    const result = await cli(['doctor', '--target', target, '--work', join(dir.path, 'work')]);
    expect(result.stdout).not.toContain('The host is ready');
    expect(result.stdout).toMatch(/FAIL\s+target: .*is not live-bootstrap output \(no steps\/manifest in it\)/);
    expect(result.exitCode).toBe(1);
    const json = JSON.parse((await cli(['doctor', '--target', target, '--work', join(dir.path, 'work'), '--json'])).stdout);
    expect(json.ok).toBe(false);
  });
});

describe('--json always ends with one final line or document (item 2)', () => {
  it('a failing fetch --json prints a document with the error', async () => {
    const result = await cli(['fetch', '--json', '--lock', join(dir.path, 'no-such.lock'), '--dest', join(dir.path, 'store')]);
    expect(result.exitCode).not.toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.error.message).toMatch(/no-such\.lock/);
  });

  it('status --json of a folder with no run prints a document with the error', async () => {
    const result = await cli(['status', '--json', '--work', join(dir.path, 'nothing')]);
    expect(result.exitCode).not.toBe(0);
    expect(JSON.parse(result.stdout).error.code).toBeTruthy();
  });

  it('run --json refused before it starts, and resume --json with no run, end with a run-ended line', async () => {
    const target = join(dir.path, 'empty');
    mkdirSync(target);
    const run = await cli(['run', '--json', '--target', target, '--work', join(dir.path, 'work')]);
    expect(run.exitCode).toBe(2);
    expect(lastJson(run.stdout)).toMatchObject({ event: 'run-ended', status: 'error', error: { code: 'ETARGET' } });
    const resume = await cli(['resume', '--json', '--work', join(dir.path, 'nothing')]);
    expect(resume.exitCode).not.toBe(0);
    expect(lastJson(resume.stdout)).toMatchObject({ event: 'run-ended', status: 'error' });
  });

  it('a failing run --json ends with run-ended: failed, the step and the resume command; its resume ends with finished', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    const work = join(dir.path, 'demo');
    const failed = await cli(['run', '--recipe', 'demo', '--work', work, '--json', '--fail', 'yes']);
    expect(failed.exitCode).toBe(1);
    expect(lastJson(failed.stdout)).toMatchObject({ event: 'run-ended', status: 'failed', step: 'check', exitCode: 1, stepExitCode: 3 });
    const resumed = await cli(['resume', '--work', work, '--json', '--set', 'fail=no']);
    expect(resumed.exitCode).toBe(0);
    expect(lastJson(resumed.stdout)).toMatchObject({ event: 'run-ended', status: 'finished', exitCode: 0 });
  });
});

describe('resume, -q and -v (items 3 and 5)', () => {
  it('a successful resume does not end with "Resumed: step check failed."; -q prints only the result, -v every output line', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    const work = join(dir.path, 'demo');
    const failed = await cli(['run', '--recipe', 'demo', '--work', work, '-q', '--fail', 'yes']);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).not.toMatch(/\[\d+\/\d+\]/);
    expect(failed.stderr).toContain('step check failed');
    const resumed = await cli(['resume', '--work', work, '--plain', '--set', 'fail=no']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stderr).not.toContain('Resumed: step check failed');
    expect(resumed.stderr).toContain('Resumed from step check (in the last run, step check failed)');
    expect(resumed.stdout).toContain('Run finished.');
    const verbose = await cli(['run', '--recipe', 'demo', '--work', work, '--fresh', '-v']);
    expect(verbose.exitCode).toBe(0);
    expect(verbose.stderr).toMatch(/check\| all checks passed/);
    expect(verbose.stderr).toMatch(/sandbox-check\| \/tmp is a fresh tmpfs/);
    const quiet = await cli(['run', '--recipe', 'demo', '--work', work, '--fresh', '--quiet']);
    expect(quiet.exitCode).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toContain('Run finished.');
  });
});
