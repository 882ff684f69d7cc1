import kleur from 'kleur';
import { jsonReporter } from '../engine/progress/json.js';
import { plainReporter } from '../engine/progress/plain.js';
import type { Reporter } from '../engine/reporter.js';
import type { RunResult } from '../engine/runner.js';
import { BootstrapError } from '../util/errors.js';
import { resumeCommand } from './resume-command.js';

// In files of their own so that status imports them without the views above.
export { endJsonOnError } from './end-json-on-error.js';
export { resumeCommand };

export interface ViewOptions {
  plain?: boolean;
  json?: boolean;
  /** Only the final result and errors. */
  quiet?: boolean;
  /** Every output line of every step (plain lines). */
  verbose?: boolean;
}

/** Output of the steps with `show_output: true` in this run, printed again when it ends. */
const shown = new Map<string, string[]>();

export async function chooseReporter(argv: ViewOptions): Promise<Reporter> {
  const view = await pickReporter(argv);
  return {
    ...view,
    stepStarted(step, attempt, log) {
      if ((step.spec as { show_output?: boolean } | null)?.show_output) shown.set(step.id, []);
      view.stepStarted(step, attempt, log);
    },
    stepOutput(step, line) {
      shown.get(step.id)?.push(line);
      view.stepOutput(step, line);
    },
  };
}

async function pickReporter(argv: ViewOptions): Promise<Reporter> {
  if (argv.json) return jsonReporter();
  if (argv.quiet && argv.verbose) throw new BootstrapError('EUSAGE', '--quiet and --verbose contradict each other', { hint: 'Give one of them.' });
  if (argv.quiet) return quietReporter();
  if (argv.verbose) return plainReporter(undefined, { verbose: true });
  if (argv.plain || !process.stderr.isTTY || process.env.CI) return plainReporter();
  // listr2 only for a terminal: fetch, pack and handoff load this module for its other parts.
  const { listrReporter } = await import('../engine/progress/listr.js');
  return listrReporter();
}

/** --quiet: the view says nothing; the final result and errors are printed by reportResult. */
function quietReporter(): Reporter {
  const nothing = () => undefined;
  return { runStarting: nothing, stepSkipped: nothing, stepStarted: nothing, stepOutput: nothing, stepNote: nothing, stepFinished: nothing, stepFailed: nothing, interrupted: nothing, runEnded: async () => undefined };
}


/** The last JSON line of run and resume when they fail before or outside the run. */
export function runErrorEvent(error: { code: string; message: string; hint?: string }): Record<string, unknown> {
  return { event: 'run-ended', time: new Date().toISOString(), status: 'error', error };
}

/**
 * SIGINT and SIGTERM abort the run: the runner stops the step's process tree, records
 * `interrupted` and returns; the exit code then says which signal it was.
 */
export function interruptSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => () => {
    if (!controller.signal.aborted) {
      process.stderr.write(`\n${kleur.yellow(`${name}: stopping the running step…`)}\n`);
      controller.abort(name);
    }
  };
  const int = onSignal('SIGINT');
  const term = onSignal('SIGTERM');
  process.on('SIGINT', int);
  process.on('SIGTERM', term);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', int);
      process.off('SIGTERM', term);
    },
  };
}


/** Prints how the run ended and returns the exit code; with --json, ends stdout with a `run-ended` line. */
export function reportResult(result: RunResult | { status: 'nothing-to-do' }, work: string, json: boolean): number {
  const code = printResult(result, work, json);
  if (json) {
    const fields: Record<string, unknown> = { event: 'run-ended', time: new Date().toISOString(), status: result.status, exitCode: code, work };
    if (result.status === 'finished') fields.documents = result.documents;
    if (shown.size > 0) fields.shown = Object.fromEntries(shown);
    if (result.status === 'paused') fields.after = result.after;
    if (result.status === 'failed') Object.assign(fields, { step: result.step.id, message: result.failure.message, stepExitCode: result.failure.exitCode, log: result.failure.log });
    if (result.status === 'interrupted') Object.assign(fields, { step: result.step?.id ?? null, signal: result.signal });
    if (result.status !== 'finished' && result.status !== 'nothing-to-do') fields.resume = resumeCommand(work);
    process.stdout.write(`${JSON.stringify(fields)}\n`);
  }
  return code;
}

function printResult(result: RunResult | { status: 'nothing-to-do' }, work: string, json: boolean): number {
  const out = (text: string) => (json ? process.stderr : process.stdout).write(text);
  switch (result.status) {
    case 'nothing-to-do':
      out(`Nothing to do: every step of the run in ${work} is done.\n`);
      return 0;
    case 'finished':
      for (const [step, lines] of shown) out(`${kleur.dim(`--- ${step} ---`)}\n${lines.map((l) => `${l}\n`).join('')}`);
      out(`${kleur.green('Run finished.')}${result.documents.length ? ` Documents: ${result.documents.join(', ')}` : ''}\n`);
      return 0;
    case 'paused':
      out(`Stopped after step ${result.after} as asked (--until). Continue with:\n  ${resumeCommand(work)}\n`);
      return 0;
    case 'failed': {
      const f = result.failure;
      process.stderr.write(
        [
          `${kleur.red('error:')} step ${result.step.id} failed: ${f.message}${f.exitCode !== null ? ` (exit code ${f.exitCode})` : ''}`,
          kleur.dim(`--- last ${f.tail.length} lines of output ---`),
          ...f.tail,
          kleur.dim('---'),
          `full log: ${f.log}`,
          `Fix the cause, then continue with:`,
          `  ${resumeCommand(work)}`,
          '',
        ].join('\n'),
      );
      return 1;
    }
    case 'interrupted':
      process.stderr.write(`Interrupted by ${result.signal}${result.step ? ` in step ${result.step.id}` : ''}. Continue with:\n  ${resumeCommand(work)}\n`);
      return result.signal === 'SIGTERM' ? 143 : 130;
  }
}
