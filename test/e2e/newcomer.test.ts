// Issue 11, "A newcomer's first hour": the README's sequences as printed, and the defects a new
// user met on them. Each test reproduced its defect before the fix.
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, mountsUnder, waitFor } from '../helpers/cli.js';
import { cliPath, needsRoot, needsTool, projectRoot, tempDir } from '../helpers/env.js';

let dir: { path: string; remove: () => void };

beforeEach(() => {
  dir = tempDir('bootstrap-newcomer-');
});
afterEach(async () => {
  await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
  dir.remove();
});

describe("the README's demo sequence", () => {
  it('run, run --fresh --fail yes, resume --set fail=no: the resume finishes, and so do later --fresh runs (item 1)', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    const work = join(dir.path, 'demo');
    expect((await cli(['run', '--recipe', 'demo', '--work', work, '--plain'])).exitCode).toBe(0);
    const failed = await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--fresh', '--fail', 'yes']);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toContain('step check failed');
    const resumed = await cli(['resume', '--work', work, '--plain', '--set', 'fail=no']);
    expect(resumed.stderr).not.toMatch(/error/i);
    expect(resumed.exitCode).toBe(0);
    const status = JSON.parse((await cli(['status', '--work', work, '--json'])).stdout);
    expect(status.finished).toBe(true);
    expect((await cli(['audit', '--work', work])).exitCode).toBe(0);
    // Once more from the start: attempt numbers go on, no log is reused.
    const again = await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--fresh']);
    expect(again.stderr).not.toMatch(/error/i);
    expect(again.exitCode).toBe(0);
    const packLogs = readdirSync(join(work, 'logs')).filter((name) => name.includes('-pack.'));
    expect(packLogs.length).toBe(new Set(packLogs).size);
    expect(packLogs.length).toBeGreaterThanOrEqual(2);
  });

  it('resume as a user who is not root, of a run root started: "needs root", exit 2, no stack (item 3)', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    needsTool(ctx, 'setpriv', 'util-linux');
    chmodSync(dir.path, 0o755);
    const work = join(dir.path, 'demo');
    expect((await cli(['run', '--recipe', 'demo', '--work', work, '--plain', '--fail', 'yes'])).exitCode).not.toBe(0);
    const asNobody = await execa('setpriv', ['--reuid', 'nobody', '--regid', 'nogroup', '--clear-groups', process.execPath, cliPath, 'resume', '--work', work, '--set', 'fail=no'], {
      reject: false,
      env: { NO_COLOR: '1', CI: 'true' },
    });
    expect(asNobody.stderr).toMatch(/needs root/);
    expect(asNobody.stderr).toMatch(/sudo/);
    expect(asNobody.stderr).not.toMatch(/internal error|EACCES|\n\s+at /);
    expect(asNobody.exitCode).toBe(2);
  });
});

describe('options', () => {
  it('a misspelled option is refused with a suggestion; --<param> VALUE still sets a declared parameter (item 5)', async () => {
    const jsn = await cli(['plan', '--jsn']);
    expect(jsn.stderr).toContain('unknown option --jsn; did you mean --json?');
    expect(jsn.exitCode).toBe(2);
    const other = await cli(['plan', '--nosuchflag', '5']);
    expect(other.stderr).toContain('unknown option --nosuchflag');
    expect(other.stderr).not.toContain('--set');
    expect(other.exitCode).toBe(2);
    const demo = await cli(['plan', '--recipe', 'demo', '--jsn']);
    expect(demo.stderr).toContain('did you mean --json?');
    // A declared parameter of the recipe, as its own option.
    const param = await cli(['plan', '--recipe', 'demo', '--fail', 'yes', '--json']);
    expect(param.stderr).toBe('');
    expect(param.exitCode).toBe(0);
    expect(JSON.parse(param.stdout).parameters.fail.value).toBe('yes');
  });
});

describe('fetch and run share one lock and one store by default (item 2)', () => {
  it('fetch from another folder reads the project lock, not ./distfiles.lock', async () => {
    const result = await cli(['fetch', '--only', 'no-such-entry.tar.gz'], { cwd: dir.path });
    expect(result.stderr).not.toContain('no such lock file');
    expect(result.stderr).toContain('no-such-entry.tar.gz');
    const help = (await cli(['fetch', '--help'])).stdout;
    expect(help).toContain('/var/tmp/bootstrap/distfiles');
  });
});

describe('pack, vm-image and handoff: one rule for an existing output (item 6)', () => {
  it('pack refuses an existing --out without --force, leaving it as it was, and replaces it with --force', async () => {
    const root = join(dir.path, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/motd'), 'hello\n');
    const out = join(dir.path, 'seed.tar');
    writeFileSync(out, 'precious\n');
    const refused = await cli(['pack', '--root', root, '--out', out, '--plain']);
    expect(refused.stderr).toMatch(/already exists/);
    expect(refused.stderr).toContain('--force');
    expect(refused.exitCode).toBe(2);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
    const forced = await cli(['pack', '--root', root, '--out', out, '--plain', '--force']);
    expect(forced.exitCode).toBe(0);
    expect(readFileSync(out).length).toBeGreaterThan(1024);
    // The folder --out goes in must exist; --help says so.
    expect((await cli(['pack', '--help'])).stdout).toMatch(/in a folder that\s+exists/);
  });
});

describe('installing from a fresh clone (item 7)', () => {
  it('without installed dependencies, prepare (which npm install -g . runs) and the command say to run npm ci, not tsc: not found', async () => {
    const clone = join(dir.path, 'clone');
    mkdirSync(clone);
    cpSync(join(projectRoot, 'bin'), join(clone, 'bin'), { recursive: true });
    cpSync(join(projectRoot, 'package.json'), join(clone, 'package.json'));
    cpSync(join(projectRoot, 'tsconfig.build.json'), join(clone, 'tsconfig.build.json'));
    const prepare = await execa('npm', ['run', 'prepare'], { cwd: clone, reject: false, env: { PATH: '/usr/local/bin:/usr/bin:/bin' } });
    expect(prepare.exitCode).not.toBe(0);
    expect(prepare.stderr).not.toContain('not found');
    expect(prepare.stderr).toContain('Run `npm ci`');
    const command = await execa(process.execPath, [join(clone, 'bin/bootstrap.js'), 'plan'], { cwd: clone, reject: false });
    expect(command.stderr).toMatch(/not built or its dependencies are not installed/);
    expect(command.stderr).toContain('npm ci');
    expect(command.stderr).not.toMatch(/\n\s+at /);
    expect(command.exitCode).toBe(2);
  });
});
