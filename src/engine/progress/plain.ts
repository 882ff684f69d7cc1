import kleur from 'kleur';
import type { PlannedStep } from '../plan.js';
import { formatDuration, type Reporter, type RunStart } from '../reporter.js';
import { eta } from './eta.js';

const HEARTBEAT_MS = 60_000;

/**
 * One line per event, for CI logs and pipes. A long step prints a heartbeat each minute with
 * its elapsed time and last output line; the full output is in the step's log file.
 */
export function plainReporter(write: (text: string) => void = (t) => process.stderr.write(t), options: { verbose?: boolean } = {}): Reporter {
  let total = 0;
  let estimates: ReadonlyMap<string, number> = new Map();
  let run: RunStart = { steps: [], startIndex: 0, estimates };
  let timer: NodeJS.Timeout | undefined;
  let lastLine = '';
  const tag = (step: PlannedStep) => kleur.dim(`[${String(step.index + 1).padStart(String(total).length)}/${total}]`) + ` ${step.id}`;
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    runStarting(start: RunStart) {
      total = start.steps.length;
      estimates = start.estimates;
      run = start;
    },
    stepSkipped(step, reason) {
      write(`${tag(step)}: ${kleur.dim(`skipped (${reason})`)}\n`);
    },
    stepStarted(step, attempt, log) {
      write(`${tag(step)}: started (phase ${step.phase})${attempt > 1 ? ` (attempt ${attempt})` : ''}${eta(step, run, 0)}; log ${log}\n`);
      const began = Date.now();
      lastLine = '';
      timer = setInterval(() => write(`${tag(step)}: running for ${formatDuration(Date.now() - began)}${eta(step, run, Date.now() - began)}${lastLine ? `: ${lastLine.slice(0, 120)}` : ''}\n`), HEARTBEAT_MS);
      timer.unref();
    },
    stepOutput(step, line) {
      if (options.verbose) write(`${tag(step)}| ${line}\n`);
      if (line.trim()) lastLine = line.trim();
    },
    stepNote(step, line) {
      write(`${tag(step)}: ${line}\n`);
    },
    stepFinished(step, durationMs) {
      stopTimer();
      write(`${tag(step)}: ${kleur.green('done')} in ${formatDuration(durationMs)}\n`);
    },
    stepFailed(step, failure) {
      stopTimer();
      write(`${tag(step)}: ${kleur.red('failed')}: ${failure.message}\n`);
    },
    interrupted(step, signal) {
      stopTimer();
      write(`${step ? `${tag(step)}: ` : ''}${kleur.yellow(`interrupted by ${signal}`)}\n`);
    },
    async runEnded() {
      stopTimer();
    },
  };
}
