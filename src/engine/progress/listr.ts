import { Listr, PRESET_TIMER, type ListrTask } from 'listr2';
import type { PlannedStep } from '../plan.js';
import { formatDuration, type Reporter, type RunStart, type StepFailureInfo } from '../reporter.js';
import { eta } from './eta.js';

interface Slot {
  started: Deferred<{ attempt: number }>;
  ended: Deferred<{ skipped?: string; failure?: StepFailureInfo; interrupted?: string }>;
  output?: (line: string) => void;
}

/**
 * The terminal view: a task per step; the running one shows `[n/N]`, its phase, its elapsed
 * time and, from the last run's durations, an ETA for the step and for the whole run; then the
 * last lines of output. Finished steps show their time. Skipped steps are collapsed to their
 * reason (listr2 shows uncollapsed skips with a warning glyph). listr2 drives its tasks itself, so each task waits on the
 * runner's events for its step. listr2's own SIGINT handler would exit the process at once,
 * before the step is stopped and `interrupted` is journalled: the runner handles signals.
 */
export function listrReporter(): Reporter {
  const slots = new Map<string, Slot>();
  let done: Promise<unknown> = Promise.resolve();
  const slot = (step: PlannedStep) => slots.get(step.id)!;
  const endAll = (result: { interrupted?: string; skipped?: string }) => {
    for (const s of slots.values()) s.ended.resolve(result);
  };
  return {
    runStarting(start: RunStart) {
      const tasks: ListrTask[] = start.steps.map((step) => {
        const s: Slot = { started: deferred(), ended: deferred() };
        slots.set(step.id, s);
        const estimate = start.estimates.get(step.id);
        return {
          title: `${step.id}${estimate !== undefined ? ` (took ${formatDuration(estimate)} last time)` : ''}`,
          task: async (_ctx, task) => {
            const first = await Promise.race([s.started.promise, s.ended.promise]);
            let ticker: NodeJS.Timeout | undefined;
            if ('attempt' in first) {
              s.output = (line) => {
                task.output = line;
              };
              const began = Date.now();
              const draw = () => {
                task.title = runningTitle(step, start, Date.now() - began);
              };
              draw();
              ticker = setInterval(draw, 1000);
              ticker.unref();
            }
            const end = await s.ended.promise;
            if (ticker) clearInterval(ticker);
            task.title = step.id;
            if (end.skipped) task.skip(`${step.id}: ${end.skipped}`);
            else if (end.interrupted) throw new Error(`interrupted by ${end.interrupted}`);
            else if (end.failure) throw new Error(end.failure.message);
          },
          rendererOptions: { outputBar: 5, persistentOutput: false },
        };
      });
      const list = new Listr(tasks, { concurrent: false, exitOnError: true, registerSignalListeners: false, rendererOptions: { timer: PRESET_TIMER, collapseSkips: true } });
      done = list.run().catch(() => undefined);
    },
    stepSkipped: (step, reason) => slot(step).ended.resolve({ skipped: reason }),
    stepStarted: (step, attempt) => slot(step).started.resolve({ attempt }),
    stepOutput: (step, line) => slot(step).output?.(line),
    stepNote: (step, line) => slot(step).output?.(line),
    stepFinished: (step) => slot(step).ended.resolve({}),
    stepFailed: (step, failure) => slot(step).ended.resolve({ failure }),
    interrupted: (_step, signal) => endAll({ interrupted: signal }),
    async runEnded() {
      endAll({ skipped: 'not run this time' });
      await done;
    },
  };
}

/** `[6/9] build › slow: 0:12 elapsed, ETA 0:30 for the step (took 0:42 last time), 3:10 for the run`. */
export function runningTitle(step: PlannedStep, start: RunStart, elapsedMs: number): string {
  const total = start.steps.length;
  const n = `[${String(step.index + 1).padStart(String(total).length)}/${total}]`;
  return `${n} ${step.phase} › ${step.id}: ${formatDuration(elapsedMs)} elapsed${eta(step, start, elapsedMs)}`;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
