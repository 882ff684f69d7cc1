// doctor checks what the work lock needs: a flock with --no-fork (engine/work-lock.ts). The old
// flock is simulated by bind-mounting a script over /usr/bin/flock in a private mount namespace,
// so the host's flock is never touched.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { cliPath, needsRoot, tempDir } from '../helpers/env.js';

let dir: { path: string; remove: () => void };
beforeEach(() => {
  dir = tempDir('bootstrap-doctor-flock-');
});
afterEach(() => dir.remove());

const workLockCheck = (stdout: string) => (JSON.parse(stdout).checks as Array<{ name: string; level: string; detail: string; fix?: string }>).find((c) => c.name === 'work lock');

describe('doctor: the work lock', () => {
  it('passes with this host\'s flock', async () => {
    const result = await cli(['doctor', '--json', '--work', join(dir.path, 'work')]);
    expect(workLockCheck(result.stdout)).toMatchObject({ level: 'pass', detail: expect.stringContaining('--no-fork') });
  });

  it('fails, naming the missing option and the fix, with a flock that has no --no-fork', async (ctx) => {
    needsRoot(ctx);
    const old = join(dir.path, 'flock');
    writeFileSync(old, '#!/bin/sh\necho "Usage: flock [options] <file>|<directory> <command>"\necho " -n, --nonblock    fail rather than wait"\n');
    chmodSync(old, 0o755);
    const result = await execa('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount --bind "$1" /usr/bin/flock && exec "$2" "$3" doctor --json --work "$4"', 'sh', old, process.execPath, cliPath, join(dir.path, 'work')], {
      reject: false,
      env: { NO_COLOR: '1', CI: 'true' },
    });
    expect(workLockCheck(String(result.stdout))).toMatchObject({ level: 'fail', detail: expect.stringContaining('no --no-fork option'), fix: expect.stringContaining('util-linux') });
    expect(result.exitCode).toBe(1);
  });
});
