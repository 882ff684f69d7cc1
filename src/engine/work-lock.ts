import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

export const LOCK_FILE = 'lock';

interface LockHolder {
  pid: number;
  /** Start time of the process (clock ticks since boot), so a reused pid is not mistaken for the holder. */
  startTicks: number | null;
  host: string;
  command: string;
  time: string;
}

export interface WorkLock {
  release(): void;
}

/**
 * One run per work directory. The lock file names its holder; a lock whose holder is dead is
 * moved aside with rename (which only one contender can win) and then taken.
 */
export function acquireWorkLock(workDir: string, command: string): WorkLock {
  const path = join(workDir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, startTicks: startTicks(process.pid), host: hostname(), command, time: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      writeSync(fd, JSON.stringify(me) + '\n');
      fsyncSync(fd);
      closeSync(fd);
      return { release: () => release(path) };
    } catch (error) {
      if (errnoCode(error) !== 'EEXIST') throw error;
    }
    const holder = readHolder(path);
    if (holder === 'gone') continue;
    if (holder && isAlive(holder)) {
      throw new BootstrapError('ELOCKED', `${workDir} is in use by another bootstrap (pid ${holder.pid}, started ${holder.time}: ${holder.command})`, {
        hint: `Wait for it to finish, or stop it (kill ${holder.pid}); one run at a time may use a work directory.`,
      });
    }
    // The holder is dead (or the file is unreadable garbage from a crash): take the lock over.
    const aside = `${path}.stale-${process.pid}-${attempt}`;
    try {
      renameSync(path, aside);
      unlinkSync(aside);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') throw error;
    }
  }
  throw new BootstrapError('ELOCKED', `could not take the lock ${path}: other processes keep taking it`, { hint: 'Try again.' });
}

function release(path: string): void {
  const holder = readHolder(path);
  if (holder && holder !== 'gone' && holder.pid === process.pid) unlinkSync(path);
}

function readHolder(path: string): LockHolder | undefined | 'gone' {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 'gone';
    return undefined;
  }
}

function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true; // cannot tell for another machine: be safe
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (errnoCode(error) === 'ESRCH') return false;
  }
  return holder.startTicks === null || startTicks(holder.pid) === holder.startTicks;
}

function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which may itself hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[19]);
  } catch {
    return null;
  }
}
