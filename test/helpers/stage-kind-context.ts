import type { PlanContext, Root, RunContext } from '../../src/engine/step-kind.js';

/** Plan and run contexts for the pack step kind, packing `rootPath` as root `gentoo`; notes are collected. */
export function packContexts(rootPath: string, options: { host?: boolean; signal?: AbortSignal } = {}) {
  const root: Root = { name: options.host ? 'host' : 'gentoo', path: options.host ? '/' : rootPath, host: options.host ?? false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
  const notes: string[] = [];
  const plan: PlanContext = { recipeDir: '/nowhere', params: {}, roots: { [root.name]: root }, root, stepId: 'pack-seed', preview: false, render: (t: string) => t };
  const run: RunContext = {
    ...plan,
    workDir: '/nowhere',
    log: { path: '/dev/null', write: () => undefined, note: (line: string) => notes.push(line) },
    signal: options.signal ?? new AbortController().signal,
    runScript: () => Promise.reject(new Error('pack runs no scripts')),
  };
  return { plan, run, notes };
}
