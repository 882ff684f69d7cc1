import type { RunState, StepState, StepStatus } from './fold-journal.js';
import type { Plan } from './plan.js';
import { BootstrapError } from './../util/errors.js';

export type StepView = StepStatus | 'changed';

export interface ResumePoint {
  /** Index of the first step to run; equal to the number of steps when all are done. */
  startIndex: number;
  /** Why resume starts there, e.g. "step emerge-gcc failed" or "step make-conf changed". */
  reason: string;
  /** Per step: its journal status, or `changed` when done with a different fingerprint. */
  views: Map<string, StepView>;
}

/** A step's status as the journal tells it, outside a live run: `running` means its run died. */
export function journalStatus(step: StepState | undefined): StepStatus {
  return step?.status === 'running' ? 'interrupted' : (step?.status ?? 'pending');
}

/**
 * Root filesystems change in sequence, so a run continues from the first step that is not
 * done with the same fingerprint, and everything after it runs again.
 */
export function resumePoint(plan: Plan, state: RunState, from?: string): ResumePoint {
  const views = new Map<string, StepView>();
  let startIndex = plan.steps.length;
  let reason = 'every step is done';
  for (const step of plan.steps) {
    const s = state.steps.get(step.id);
    const status = journalStatus(s);
    const view: StepView = status === 'done' && s?.fingerprint !== step.fingerprint ? 'changed' : status;
    views.set(step.id, view);
    if (view !== 'done' && startIndex === plan.steps.length) {
      startIndex = step.index;
      reason = `step ${step.id} ${view === 'pending' ? 'has not run' : view === 'changed' ? 'changed in the recipe since it ran' : view === 'failed' ? 'failed' : 'was interrupted'}`;
    }
  }
  if (from !== undefined) {
    const forced = plan.steps.find((step) => step.id === from);
    if (!forced) {
      throw new BootstrapError('ESTEP', `--from ${from}: recipe ${plan.recipe.file.name} has no step ${from}`, {
        hint: `Steps: ${plan.steps.map((s) => s.id).join(', ')}.`,
      });
    }
    if (forced.index < startIndex) {
      startIndex = forced.index;
      reason = `--from ${from}`;
    }
  }
  return { startIndex, reason, views };
}
