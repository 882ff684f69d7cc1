import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from './errors.js';

/**
 * Every file bootstrap writes before a rename into place has one name pattern,
 * `.<name>.<pid>.<12 hex>.tmp`: hidden, because a visible `<name>.tmp…` left by an interrupted run
 * would match Catalyst's `<source_subpath>.*` glob and make it stop with "Ambiguous Filename";
 * carrying the writer's pid, so that a later run can tell a crashed writer's leftover (removed)
 * from a live writer's file (kept).
 */
const TEMP_NAME = /^\.(.+)\.([1-9]\d*)\.[0-9a-f]{12}\.tmp$/s;

/** A hidden name beside `path` for writing before a rename into place. */
export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The file a temporary name was made for, and its writer's pid; undefined for any other name. */
export function parseTempName(name: string): { target: string; pid: number } | undefined {
  const match = TEMP_NAME.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : undefined;
}

/**
 * The temporary names as one GNU tar pattern, for `--no-anchored --no-wildcards-match-slash`
 * (it then matches a whole path component). A glob cannot say "digits only", so it is a little
 * wider than parseTempName: `.<name>.<digit…>.<12 hex>.tmp`.
 */
export const TEMP_NAME_GLOB = `.*.[0-9]*.${'[0-9a-f]'.repeat(12)}.tmp`;

/**
 * Removes the temporary files in `dir` whose writer is gone (optionally only those made for the
 * file names in `targets`) and returns their paths. A writer is gone when no process has its pid
 * (or only a zombie), or when the process with that pid started after the file was last
 * written, so it cannot be the writer (the pid was reused, e.g. after a reboot). Files of this
 * process and of live writers are left alone. A missing `dir` has nothing to remove.
 */
export async function removeStaleTemps(dir: string, targets?: readonly string[]): Promise<string[]> {
  const names = await readdir(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return [] as string[];
    throw error;
  });
  const removed: string[] = [];
  for (const name of names) {
    const parsed = parseTempName(name);
    if (!parsed || parsed.pid === process.pid) continue;
    if (targets && !targets.includes(parsed.target)) continue;
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) continue;
    if (!(await writerIsGone(parsed.pid, info.mtimeMs))) continue;
    await rm(path, { force: true });
    removed.push(path);
  }
  return removed;
}

/** Linux reports process start times in these ticks (USER_HZ, 100 on every architecture). */
const TICKS_PER_SECOND = 100;
/** /proc/stat's boot time has whole seconds: a start time is only known to within this much. */
const START_TIME_SLACK_MS = 2000;

async function writerIsGone(pid: number, mtimeMs: number): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ESRCH') return true;
    throw error;
  }
  // Fields after the command name, which is in parentheses and may hold spaces: state is the
  // first, starttime (field 22 of proc(5)) the 20th.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return true;
  const bootSeconds = /^btime (\d+)$/m.exec(await readFile('/proc/stat', 'utf8'))?.[1];
  const startTicks = Number(fields[19]);
  if (bootSeconds === undefined || !Number.isFinite(startTicks)) return false;
  const startedMs = Number(bootSeconds) * 1000 + (startTicks * 1000) / TICKS_PER_SECOND;
  return startedMs > mtimeMs + START_TIME_SLACK_MS;
}
