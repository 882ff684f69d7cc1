import { join } from 'node:path';
import type { PlannedStep } from '../engine/plan.js';

/**
 * Where an emerge step's Portage writes emerge.log, as host paths: `var/log` under the root's
 * EPREFIX (Portage's default), or EMERGE_LOG_DIR when the step or its root sets it. The root's
 * own `var/log/emerge.log` is always a candidate, as that is where a Portage without EPREFIX
 * writes.
 */
export function emergeLogPaths(step: PlannedStep): string[] {
  if (step.root.host) return [];
  const env = { ...step.root.env, ...stepEnv(step.spec) };
  const inRoot = (path: string) => join(step.root.path, path);
  const paths = [inRoot('var/log/emerge.log')];
  if (env.EPREFIX) paths.push(inRoot(join(env.EPREFIX, 'var/log/emerge.log')));
  if (env.EMERGE_LOG_DIR) paths.push(inRoot(join(env.EMERGE_LOG_DIR, 'emerge.log')));
  return [...new Set(paths)];
}

function stepEnv(spec: unknown): Record<string, string> {
  const env = (spec as { env?: unknown } | null)?.env;
  return env && typeof env === 'object' ? (env as Record<string, string>) : {};
}
