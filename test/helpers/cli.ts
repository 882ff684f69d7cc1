import { execa, type ResultPromise } from 'execa';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cliPath } from './env.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI; never throws on a non-zero exit. */
export async function cli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const result = await execa(process.execPath, [cliPath, ...args], {
    reject: false,
    env: { NO_COLOR: '1', CI: 'true', ...options.env },
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/**
 * Starts the CLI in the background (for interrupting it). execa would follow a SIGTERM with a
 * SIGKILL after 5 s; a loaded machine can take longer to stop a step and write the journal,
 * and it is bootstrap's own handling of the signal that the tests check.
 */
export function startCli(args: string[]): ResultPromise<{ reject: false; env: Record<string, string>; forceKillAfterDelay: false }> {
  return execa(process.execPath, [cliPath, ...args], { reject: false, env: { NO_COLOR: '1', CI: 'true' }, forceKillAfterDelay: false });
}

export function journalEvents(work: string): Array<Record<string, unknown> & { type: string }> {
  const path = `${work}/journal.jsonl`;
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

export async function waitFor(predicate: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Mount points at or below `dir`, from this process's mountinfo. */
export function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => (line.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Pids of processes whose root directory is inside `dir`. */
export function processesRootedIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const root = readlinkSync(`/proc/${entry}/root`);
      if (root === dir || root.startsWith(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
