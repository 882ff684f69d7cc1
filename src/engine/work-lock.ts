import type { ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

export const LOCK_FILE = 'lock';

/** Who holds a work directory's lock, as the holder wrote it into the lock file. */
export interface LockHolder {
  /** The orchestrator (bootstrap) process. */
  pid: number;
  command: string;
  time: string;
  /** The helper process that holds the flock(2) lock (see acquireWorkLock). */
  lockPid: number;
}

export interface WorkLock {
  /** Gives the lock up; resolves once the kernel has released it. */
  release(): Promise<void>;
}

// The helper's exit code when another process holds the lock.
const HELD = 75;
// Where the helper's tools are looked for: the standard directories, not the caller's PATH.
const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * One run per work directory, made exclusive by the kernel. Node has no flock(2), so a helper
 * process holds it: `setpriv --pdeathsig KILL -- flock --exclusive --nonblock --no-fork LOCK
 * sh -c 'echo locked; exec cat'` (util-linux). The lock lives as long as that process: it ends
 * when bootstrap closes its stdin (release), and when bootstrap dies by any means (its stdin
 * reaches EOF, and the parent-death signal fires, as Node spawns on its main thread); the kernel
 * then drops the lock. So there is no stale lock to detect or take over, and no pid guessing.
 * The file itself is never removed or renamed (that would let two holders lock two inodes); it
 * only carries the holder's pid and command, for the "in use" message and for `status`.
 */
export async function acquireWorkLock(workDir: string, command: string): Promise<WorkLock> {
  const path = join(workDir, LOCK_FILE);
  // Loaded here: `status` and `plan` read who holds the lock and never take it (2.5 ms to load).
  const { spawn } = await import('node:child_process');
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'flock', '--exclusive', '--nonblock', '--conflict-exit-code', String(HELD), '--no-fork', path, '/bin/sh', '-c', 'echo locked; exec cat'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: TOOL_PATH },
    // A session of its own: Ctrl-C (SIGINT to the terminal's process group) or a hangup must not
    // end the lock while bootstrap is still stopping its step and writing the journal.
    detached: true,
  });
  const outcome = await new Promise<{ got: true } | { got: false; code: number | null; stderr: string; error?: Error }>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('locked\n')) resolve({ got: true });
    });
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => resolve({ got: false, code: null, stderr, error }));
    child.on('close', (code) => resolve({ got: false, code, stderr }));
  });
  if (!outcome.got) {
    if (outcome.code === HELD) throw lockedError(workDir);
    const why = outcome.error ? `${errnoCode(outcome.error) ?? outcome.error.message} (setpriv and flock come with util-linux)` : outcome.stderr.trim() || `exit code ${outcome.code}`;
    throw new BootstrapError('ELOCK', `cannot lock ${path}: ${why}`, {
      hint: 'Give a --work directory you can write to on a local file system; install util-linux if setpriv or flock is missing.',
    });
  }
  // The lock must never keep bootstrap alive, nor its pipes keep the event loop running.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  writeHolder(path, { pid: process.pid, command, time: new Date().toISOString(), lockPid: child.pid! });
  let released: Promise<void> | undefined;
  // The helper gone before a release (killed by hand, or by the OOM killer) means the kernel
  // has dropped the lock: another run may get in. Stop as on SIGTERM rather than overlap it.
  child.once('exit', () => {
    if (released) return;
    released = Promise.resolve();
    process.stderr.write(`bootstrap: the lock of ${workDir} was lost (its helper, pid ${child.pid}, ended); stopping so that no other run overlaps this one\n`);
    process.kill(process.pid, 'SIGTERM');
  });
  return { release: () => (released ??= release(path, child)) };
}

async function release(path: string, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Still ours: clear the holder's details before the kernel lets the next one in.
  try {
    writeHolder(path, undefined);
  } catch {
    // the details are only informative; the lock itself goes with the helper
  }
  // Keep the event loop alive until the helper is gone, so the next holder can get in.
  child.ref();
  const gone = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** Written in place (never by rename: the lock is on this inode). */
function writeHolder(path: string, holder: LockHolder | undefined): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, 0);
    if (holder) writeSync(fd, JSON.stringify(holder) + '\n', 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function lockedError(workDir: string): BootstrapError {
  const holder = liveHolder(workDir);
  const who = holder ? `pid ${holder.pid}, started ${holder.time}: ${holder.command}` : 'it is just starting';
  return new BootstrapError('ELOCKED', `${workDir} is in use by another bootstrap (${who})`, {
    hint: holder ? `Wait for it to finish, or stop it (kill ${holder.pid}); one run at a time may use a work directory.` : 'Wait for it to finish; one run at a time may use a work directory.',
  });
}

function liveHolder(workDir: string): LockHolder | undefined {
  // The holder writes its details just after it gets the lock: give it a moment.
  for (let i = 0; i < 20; i++) {
    const holder = workLockHolder(workDir);
    if (holder) return holder;
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  return undefined;
}

/**
 * The live holder of a work directory's lock, read without taking the lock (so that `status`
 * never makes a starting run fail): the file names the holder and its helper, and the helper's
 * own table of open files (/proc/PID/fdinfo) says whether it still holds the flock(2) lock on
 * this file. Not the kernel's whole table, /proc/locks, unless that is all there is to read:
 * reading it stops every file lock on the host until an RCU grace period has passed (15 to 20 ms
 * here, a tenth of a `status`). A holder that has not written its details yet is not found; it
 * has written nothing else either.
 */
export function workLockHolder(workDir: string): LockHolder | undefined {
  const path = join(workDir, LOCK_FILE);
  let ino: bigint;
  let text: string;
  try {
    ino = statSync(path, { bigint: true }).ino;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  let holder: LockHolder | undefined;
  try {
    const parsed = JSON.parse(text) as LockHolder;
    if (typeof parsed?.pid === 'number' && Number.isSafeInteger(parsed.lockPid) && parsed.lockPid > 0) holder = parsed;
  } catch {
    // empty: released, or a holder that has not written its details yet
  }
  return holder && holdsFlock(holder.lockPid, ino) ? holder : undefined;
}

/** Whether process `pid` holds a flock(2) write lock on inode `ino` (the holder's helper does). */
function holdsFlock(pid: number, ino: bigint): boolean {
  const dir = `/proc/${pid}/fdinfo`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch (error) {
    // Another user's process (a run started with sudo, read without), or no right to look into
    // any other process: only the kernel's whole table can tell, slow as it is.
    if (errnoCode(error) === 'EACCES' || errnoCode(error) === 'EPERM') return flockLines(readFileSync('/proc/locks', 'utf8')).some((l) => l.pid === pid && l.ino === ino);
    return false; // gone
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = readFileSync(`${dir}/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    if (flockLines(info).some((l) => l.ino === ino)) return true;
  }
  return false;
}

/**
 * The flock(2) write locks in lines as /proc/locks and /proc/PID/fdinfo/FD print them:
 * "1: FLOCK  ADVISORY  WRITE 31808 fe:00:2146349 0 EOF" (fdinfo puts "lock:" before it; a
 * blocked waiter's line has "->" and does not match).
 */
function flockLines(text: string): Array<{ pid: number; ino: bigint }> {
  return [...text.matchAll(/^(?:lock:\s+)?\d+:\s+FLOCK\s+\S+\s+WRITE\s+(\d+)\s+[0-9a-f]+:[0-9a-f]+:(\d+)\s/gm)].map((m) => ({ pid: Number(m[1]), ino: BigInt(m[2]!) }));
}
