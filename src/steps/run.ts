import * as z from 'zod';
import type { StepKind } from '../engine/step-kind.js';
import { checkScriptSize, sandboxScript } from '../host/sandbox.js';
import { runOrExplain } from './failure-logs.js';
import { envSchema, failureLogsSchema, scriptSummary } from './fields.js';

const schema = z
  .object({
    /** Shell script, run by the root's shell with `-c`. */
    script: z.string().min(1),
    env: envSchema,
    /** Working directory inside the root. */
    cwd: z.string().startsWith('/').optional(),
    failure_logs: failureLogsSchema,
    /** Print the step's output again at the end of the run (e.g. where the result is); not part of the fingerprint. */
    show_output: z.boolean().optional(),
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
      checkScriptSize(sandboxScript(ctx.root, spec.script, spec.cwd), `step ${ctx.stepId}`);
      return { summary: scriptSummary('run', ctx.root, spec.script, spec.env, spec.cwd), detail: { script: spec.script, env: spec.env, cwd: spec.cwd ?? null } };
    },
    run(spec, _plan, ctx) {
      return runOrExplain(ctx, { root: ctx.root, script: spec.script, env: spec.env, ...(spec.cwd ? { cwd: spec.cwd } : {}) }, spec.failure_logs);
    },
  };
}
