import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireWorkLock, workLockHolder } from '../../../src/engine/work-lock.js';
import { waitFor } from '../../helpers/cli.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

describe('work directory lock', () => {
  let dir: { path: string; remove: () => void };
  const children: Array<{ kill: (signal?: NodeJS.Signals) => boolean }> = [];
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    dir.remove();
  });

  it('names a live holder and refuses; release lets the next one in and leaves the file (its inode is the lock)', async () => {
    const lock = await acquireWorkLock(dir.path, 'first');
    await expect(acquireWorkLock(dir.path, 'second')).rejects.toThrow(new RegExp(`in use by another bootstrap \\(pid ${process.pid}, started .*: first\\)`));
    expect(workLockHolder(dir.path)).toMatchObject({ pid: process.pid, command: 'first' });
    await lock.release();
    expect(readFileSync(join(dir.path, 'lock'), 'utf8')).toBe('');
    expect(workLockHolder(dir.path)).toBeUndefined();
    await (await acquireWorkLock(dir.path, 'third')).release();
  });

  it('takes a lock whose file names a dead holder: only the kernel lock counts', async () => {
    writeFileSync(join(dir.path, 'lock'), JSON.stringify({ pid: 1, command: 'old', time: 't', lockPid: 1 }));
    expect(workLockHolder(dir.path)).toBeUndefined(); // pid 1 exists, but holds no lock on this file
    // A live process that holds a flock on another file is not the holder either.
    const other = join(dir.path, 'other');
    writeFileSync(other, '');
    const elsewhere = execa('flock', ['--exclusive', '--no-fork', other, 'sh', '-c', 'echo held; exec sleep 60'], { reject: false });
    children.push(elsewhere);
    await new Promise<void>((resolve) => elsewhere.stdout!.once('data', () => resolve()));
    writeFileSync(join(dir.path, 'lock'), JSON.stringify({ pid: 1, command: 'old', time: 't', lockPid: elsewhere.pid }));
    expect(workLockHolder(dir.path)).toBeUndefined();
    const lock = await acquireWorkLock(dir.path, 'new');
    expect(JSON.parse(readFileSync(join(dir.path, 'lock'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'new' });
    await lock.release();
  });

  it('does not take a held lock whose file is still empty (a holder that has not written its details yet)', async () => {
    const path = join(dir.path, 'lock');
    writeFileSync(path, '');
    const holder = execa('flock', ['--exclusive', path, 'sh', '-c', 'echo held; exec sleep 60'], { reject: false });
    children.push(holder);
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    await expect(acquireWorkLock(dir.path, 'second')).rejects.toThrow(/in use by another bootstrap \(it is just starting\)/);
    expect(readFileSync(path, 'utf8')).toBe('');
    // status names no holder that has not named itself (it has written nothing else either).
    expect(workLockHolder(dir.path)).toBeUndefined();
  });

  it('is released by the kernel when its orchestrator is killed with SIGKILL', async () => {
    // A separate node process, so it runs the built module (npm test builds first).
    const module = join(projectRoot, 'dist/engine/work-lock.js');
    const script = `const { acquireWorkLock } = await import(${JSON.stringify(module)}); await acquireWorkLock(process.argv[1], 'victim'); console.log('held'); setInterval(() => {}, 1000);`;
    const victim = execa(process.execPath, ['--input-type=module', '-e', script, dir.path], { reject: false });
    children.push(victim);
    await new Promise<void>((resolve, reject) => {
      victim.stdout!.once('data', () => resolve());
      void victim.then((r) => reject(new Error(`the victim ended: ${r.stderr}`)));
    });
    const held = workLockHolder(dir.path);
    expect(held).toMatchObject({ pid: victim.pid, command: 'victim' });
    await expect(acquireWorkLock(dir.path, 'second')).rejects.toThrow(/in use by another bootstrap/);
    victim.kill('SIGKILL');
    await victim;
    const helper = (held as { lockPid: number }).lockPid;
    await waitFor(() => workLockHolder(dir.path) === undefined, 5000, 'the kernel to release the lock');
    await waitFor(() => !processExists(helper), 5000, 'the lock helper to die with its orchestrator');
    await (await acquireWorkLock(dir.path, 'after')).release();
  });
});

it('outlives a Ctrl-C to the orchestrator\'s process group: the orchestrator, not the terminal, ends it', async () => {
  const dir = tempDir();
  try {
    const module = join(projectRoot, 'dist/engine/work-lock.js');
    // Like bootstrap: SIGINT is handled (the run stops its step and records it), not fatal.
    const script = `process.on('SIGINT', () => console.log('interrupted')); const { acquireWorkLock } = await import(${JSON.stringify(module)}); await acquireWorkLock(process.argv[1], 'victim'); console.log('held'); setInterval(() => {}, 1000);`;
    const victim = execa(process.execPath, ['--input-type=module', '-e', script, dir.path], { reject: false, detached: true });
    try {
      await new Promise<void>((resolve) => victim.stdout!.once('data', () => resolve()));
      process.kill(-victim.pid!, 'SIGINT');
      await new Promise((r) => setTimeout(r, 500));
      expect(workLockHolder(dir.path)).toMatchObject({ pid: victim.pid });
    } finally {
      victim.kill('SIGKILL');
      await victim;
    }
  } finally {
    dir.remove();
  }
});

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
