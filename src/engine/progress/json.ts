import type { PlannedStep } from '../plan.js';
import type { Reporter } from '../reporter.js';

/** One JSON object per line on stdout, for programs that watch a run. */
export function jsonReporter(write: (text: string) => void = (t) => process.stdout.write(t)): Reporter {
  const emit = (event: string, fields: Record<string, unknown>) => write(JSON.stringify({ event, time: new Date().toISOString(), ...fields }) + '\n');
  const id = (step: PlannedStep) => ({ step: step.id, index: step.index });
  return {
    runStarting: (start) => emit('run-starting', { steps: start.steps.map((s) => s.id), startIndex: start.startIndex, estimatesMs: Object.fromEntries(start.estimates) }),
    stepSkipped: (step, reason) => emit('step-skipped', { ...id(step), reason }),
    stepStarted: (step, attempt, log) => emit('step-started', { ...id(step), attempt, log }),
    stepOutput: (step, line) => emit('step-output', { ...id(step), line }),
    stepNote: (step, line) => emit('step-note', { ...id(step), line }),
    stepFinished: (step, durationMs) => emit('step-finished', { ...id(step), durationMs }),
    stepFailed: (step, failure) => emit('step-failed', { ...id(step), ...failure }),
    interrupted: (step, signal) => emit('interrupted', { step: step?.id ?? null, signal }),
    runEnded: async () => undefined,
  };
}
