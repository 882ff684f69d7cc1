import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StepFailure, type Root, type RunContext, type ScriptRequest } from '../engine/step-kind.js';
import { resolveInRoot } from '../host/rooted-fs.js';
import { globToRegExp } from '../util/glob.js';

/**
 * Runs a step's script; on a non-zero exit, fails the step with the tail of the newest of the
 * programs' own logs (`failureLogs`) written meanwhile.
 */
export async function runOrExplain(ctx: RunContext, request: ScriptRequest, failureLogs: string[]): Promise<void> {
  const started = Date.now();
  const { exitCode } = await ctx.runScript(request);
  if (exitCode === 0) return;
  const details = ctx.signal.aborted ? [] : await newestLogTail(ctx.root, failureLogs, started);
  throw new StepFailure(`the script exited with status ${exitCode}`, { exitCode, details });
}

const TAIL_LINES = 30;

async function newestLogTail(root: Root, patterns: string[], since: number): Promise<string[]> {
  let newest: { path: string; mtime: number } | undefined;
  for (const pattern of patterns) {
    const dir = await resolveInRoot(root.path, dirname(pattern)).catch(() => undefined);
    if (!dir) continue;
    const re = globToRegExp(basename(pattern));
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (!re.test(name)) continue;
      const info = await stat(join(dir, name)).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs >= since && (!newest || info.mtimeMs > newest.mtime)) {
        newest = { path: join(dir, name), mtime: info.mtimeMs };
      }
    }
  }
  if (!newest) return [];
  const lines = (await readTail(newest.path, 64 * 1024)).split('\n').slice(-TAIL_LINES);
  return [`last lines of ${newest.path}:`, ...lines];
}

async function readTail(path: string, bytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8').trimEnd();
  } finally {
    await handle.close();
  }
}
