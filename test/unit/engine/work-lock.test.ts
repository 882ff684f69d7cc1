import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireWorkLock } from '../../../src/engine/work-lock.js';
import { tempDir } from '../../helpers/env.js';

describe('work directory lock', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('names a live holder and refuses', () => {
    const lock = acquireWorkLock(dir.path, 'first');
    expect(() => acquireWorkLock(dir.path, 'second')).toThrow(new RegExp(`in use by another bootstrap \\(pid ${process.pid}`));
    lock.release();
    expect(existsSync(join(dir.path, 'lock'))).toBe(false);
    acquireWorkLock(dir.path, 'third').release();
  });

  it('takes over the lock of a dead process, and of a reused pid', () => {
    // A pid that certainly exited: a finished child.
    const dead = Number(execFileSync('sh', ['-c', 'echo $$'], { encoding: 'utf8' }).trim());
    writeFileSync(join(dir.path, 'lock'), JSON.stringify({ pid: dead, startTicks: 1, host: hostname(), command: 'old', time: 't' }));
    const lock = acquireWorkLock(dir.path, 'new');
    expect(JSON.parse(readFileSync(join(dir.path, 'lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    // Our own pid but another start time: the holder is gone and the pid was reused.
    writeFileSync(join(dir.path, 'lock'), JSON.stringify({ pid: process.pid, startTicks: 1, host: hostname(), command: 'old', time: 't' }));
    acquireWorkLock(dir.path, 'new').release();
  });

  it('takes over a lock file torn by a crash', () => {
    writeFileSync(join(dir.path, 'lock'), '{"pid": 12');
    acquireWorkLock(dir.path, 'new').release();
  });
});
