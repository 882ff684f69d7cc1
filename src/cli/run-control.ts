import kleur from 'kleur';
import { jsonReporter } from '../engine/progress/json.js';
import { listrReporter } from '../engine/progress/listr.js';
import { plainReporter } from '../engine/progress/plain.js';
import type { Reporter } from '../engine/reporter.js';
import type { RunResult } from '../engine/runner.js';

export function chooseReporter(argv: { plain?: boolean; json?: boolean }): Reporter {
  if (argv.json) return jsonReporter();
  if (argv.plain || !process.stderr.isTTY || process.env.CI) return plainReporter();
  return listrReporter();
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

/** The exact command that continues this run. */
export function resumeCommand(work: string): string {
  return `${process.env.SUDO_USER ? 'sudo ' : ''}bootstrap resume --work ${work}`;
}

/** Prints how the run ended and returns the exit code. */
export function reportResult(result: RunResult | { status: 'nothing-to-do' }, work: string, json: boolean): number {
  const out = (text: string) => (json ? process.stderr : process.stdout).write(text);
  switch (result.status) {
    case 'nothing-to-do':
      out(`Nothing to do: every step of the run in ${work} is done.\n`);
      return 0;
    case 'finished':
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
