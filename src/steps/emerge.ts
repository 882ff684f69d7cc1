import * as z from 'zod';
import type { StepKind } from '../engine/step-kind.js';
import { checkScriptSize, sandboxScript } from '../host/sandbox.js';
import { readEmergePretend } from '../portage/emerge-output.js';
import { BootstrapError } from '../util/errors.js';
import { shellQuote, shellWord } from '../util/shell-quote.js';
import { runOrExplain } from './failure-logs.js';
import { envSchema, failureLogsSchema, scalar, scriptSummary } from './fields.js';

const schema = z
  .object({
    /** The emerge to run: `emerge` on the root's PATH, or a path (e.g. an unpacked Portage's bin/emerge). */
    emerge: z.string().min(1).default('emerge'),
    /** Options and atoms, each one word, as emerge takes them. */
    args: z.array(scalar.pipe(z.string().min(1))).min(1),
    /** More atoms, one per line, from a file inside the root (written by an earlier step). */
    atoms_file: z.string().startsWith('/', { message: 'must be an absolute path inside the root' }).optional(),
    /** Source /etc/profile.env first: the PATH and variables env-update wrote (e.g. cross tools). */
    profile_env: z.boolean().default(false),
    env: envSchema,
    failure_logs: failureLogsSchema,
  })
  .strict();

type Spec = z.output<typeof schema>;

// What makes emerge's answer readable and the same wherever it runs: no colours, no spinner.
const PRETEND_OPTIONS = ['--pretend', '--color=n', '--nospinner'];

/**
 * Portage's emerge as a step. The recipe gives its words, not a script, so the same step has a
 * dry-run form (`emerge --pretend` with exactly those words, root, environment and
 * configuration) that `bootstrap preflight` asks before hours of compiling.
 */
export function createEmergeKind(): StepKind<Spec> {
  return {
    name: 'emerge',
    schema,
    needsRoot: (_spec, root) => !root.host,
    plan(spec, ctx) {
      if (ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: emerge runs in a root, not on the host`, { hint: 'Give the step the root whose Portage it uses (root: <name>).' });
      }
      const script = emergeScript(spec, []);
      // The dry-run form is a few bytes longer; both must fit.
      checkScriptSize(sandboxScript(ctx.root, emergeScript(spec, PRETEND_OPTIONS)), `step ${ctx.stepId}`);
      return { summary: scriptSummary('emerge', ctx.root, script, spec.env), detail: { script, env: spec.env } };
    },
    run(spec, _plan, ctx) {
      return runOrExplain(ctx, { root: ctx.root, script: emergeScript(spec, []), env: spec.env }, spec.failure_logs);
    },
    async pretend(spec, _plan, ctx) {
      const { exitCode, output } = await ctx.runScript({ root: ctx.root, script: emergeScript(spec, PRETEND_OPTIONS), env: spec.env, capture: true });
      return readEmergePretend(output ?? '', exitCode);
    },
  };
}

/** The script a step runs; `extra` options go before the recipe's own words. */
function emergeScript(spec: Spec, extra: string[]): string {
  const command = shellQuote([spec.emerge, ...extra, ...spec.args]);
  const lines = ['set -eu'];
  if (spec.profile_env) lines.push('source /etc/profile.env');
  if (spec.atoms_file) {
    // An assignment, so that a missing or empty list stops the script (grep exits non-zero);
    // then one argument per line, split on newlines only and never globbed (POSIX sh).
    lines.push(`list=$(grep -v -e '^[[:space:]]*$' -e '^[[:space:]]*#' ${shellWord(spec.atoms_file)})`);
    lines.push('set -f', `IFS='\n'`, 'set -- $list', 'unset IFS', 'set +f');
    lines.push(`exec ${command} "$@"`);
  } else {
    lines.push(`exec ${command}`);
  }
  return `${lines.join('\n')}\n`;
}
