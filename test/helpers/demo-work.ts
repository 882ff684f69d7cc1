import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { mountsUnder, waitFor } from './cli.js';
import { needsRoot, needsTool, tempDir } from './env.js';

export interface DemoWork {
  dir: { path: string; remove: () => void };
  /** `<dir>/work`, the work directory of the test's runs. */
  work: string;
  /** CLI processes the test started; killed after it, whatever happened. */
  children: Array<{ kill: (signal?: NodeJS.Signals) => boolean }>;
}

/**
 * A temporary folder per test for runs of the demo recipe (root and busybox needed, else the
 * test skips saying why); afterwards its processes are killed and, once their namespaced
 * mounts have vanished with them, the folder is removed.
 */
export function useDemoWork(prefix: string): DemoWork {
  const demo = { children: [] } as unknown as DemoWork;
  let made = false;
  beforeEach((ctx) => {
    made = false;
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    demo.dir = tempDir(prefix);
    demo.work = join(demo.dir.path, 'work');
    made = true;
  });
  afterEach(async () => {
    for (const child of demo.children.splice(0)) child.kill('SIGKILL');
    if (!made) return;
    await waitFor(() => mountsUnder(demo.dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
    demo.dir.remove();
  });
  return demo;
}
