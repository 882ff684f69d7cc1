import { readdir, stat, open } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { resolveInRoot } from '../host/rooted-fs.js';
import { StepFailure, type Root, type StepKind } from '../engine/step-kind.js';
import { globToRegExp } from '../util/glob.js';

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

const schema = z
  .object({
    /** Shell script, run by the root's shell with `-c`. */
    script: z.string().min(1),
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), scalar).default({}),
    /** Working directory inside the root. */
    cwd: z.string().startsWith('/').optional(),
    /**
     * Where the programs this script runs keep their own logs (paths inside the root, `*` in
     * the last component). On failure the newest such file written during the step is shown,
     * e.g. the failing package's build.log rather than only emerge's summary.
     */
    failure_logs: z.array(z.string().startsWith('/')).default([]),
  })
  .strict();

type Spec = z.output<typeof schema>;

/** A shell script run in a root: chrooted in fresh namespaces, or on the host. */
export function createRunKind(): StepKind<Spec> {
  return {
    name: 'run',
    schema,
    needsRoot: (_spec, root) => !root.host,
    plan(spec, ctx) {
      const where = ctx.root.host ? 'on the host' : `chrooted in ${ctx.root.name} (${ctx.root.path})`;
      const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
      return {
        summary: [
          `run ${where}${spec.cwd ? ` in ${spec.cwd}` : ''}${env.length ? ` with ${env.join(' ')}` : ''}`,
          ...spec.script.trimEnd().split('\n').map((line) => `  ${line}`),
        ],
        detail: { script: spec.script, env: spec.env, cwd: spec.cwd ?? null },
      };
    },
    async run(spec, _plan, ctx) {
      const started = Date.now();
      const { exitCode } = await ctx.runScript({ root: ctx.root, script: spec.script, env: spec.env, ...(spec.cwd ? { cwd: spec.cwd } : {}) });
      if (exitCode === 0) return;
      const details = ctx.signal.aborted ? [] : await newestLogTail(ctx.root, spec.failure_logs, started);
      throw new StepFailure(`the script exited with status ${exitCode}`, { exitCode, details });
    },
  };
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
