import * as z from 'zod';
import type { Root } from '../engine/step-kind.js';

/** Fields that several step kinds share. */

/** A YAML scalar as the text it was written as (`-1` is a word, not a number). */
export const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);

/** Extra environment of a step's script (on top of its root's). */
export const envSchema = z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), scalar).default({});

/**
 * Where the programs a step runs keep their own logs (paths inside the root, `*` in the last
 * component). On failure the newest such file written during the step is shown, e.g. the
 * failing package's build.log rather than only emerge's summary.
 */
export const failureLogsSchema = z.array(z.string().startsWith('/')).default([]);

/** What `bootstrap plan` shows of a script: where and with what it runs, then the script. */
export function scriptSummary(verb: string, root: Root, script: string, env: Record<string, string>, cwd?: string): string[] {
  const where = root.host ? 'on the host' : `chrooted in ${root.name} (${root.path})`;
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return [
    `${verb} ${where}${cwd ? ` in ${cwd}` : ''}${vars.length ? ` with ${vars.join(' ')}` : ''}`,
    ...script.trimEnd().split('\n').map((line) => `  ${line}`),
  ];
}
