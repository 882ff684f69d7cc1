import { RECIPES_DIR } from './defaults.js';
import type { EngineDeps } from '../engine/session.js';
import type { StepKind } from '../engine/step-kind.js';
import { runSandboxed } from '../host/sandbox.js';
import { createRunKind } from '../steps/run.js';
import { createWriteKind } from '../steps/write.js';


/** Options that change how steps behave, from the command line. */
export interface KindOptions {
  work: string;
}

/** The engine's dependencies: every step kind, and scripts run in the sandbox. */
export function engineDeps(_options: KindOptions): EngineDeps {
  const kinds: StepKind<any>[] = [createRunKind(), createWriteKind()];
  return {
    registry: new Map(kinds.map((k) => [k.name, k])),
    recipesDir: RECIPES_DIR,
    runScript: (request, io) =>
      runSandboxed({ root: request.root, script: request.script, env: request.env ?? {}, ...(request.cwd ? { cwd: request.cwd } : {}), output: io.output, signal: io.signal }),
  };
}
