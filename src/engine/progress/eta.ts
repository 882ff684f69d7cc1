import type { PlannedStep } from '../plan.js';
import { formatDuration, type RunStart } from '../reporter.js';

// Its own module: the plain view uses it too, and must not load listr2 with the terminal view.
/** `, ETA … for the step (took … last time), … for the run` from the last run's durations, or ''. */
export function eta(step: PlannedStep, start: RunStart, elapsedMs: number): string {
  const estimate = start.estimates.get(step.id);
  const later = start.steps.filter((s) => s.index > step.index);
  const known = later.every((s) => start.estimates.has(s.id));
  const laterMs = later.reduce((sum, s) => sum + (start.estimates.get(s.id) ?? 0), 0);
  if (estimate === undefined) return known && later.length > 0 ? `, ETA ${formatDuration(laterMs)} for the run after this step` : '';
  const stepLeft = Math.max(0, estimate - elapsedMs);
  const overdue = elapsedMs > estimate ? ' (longer than last time)' : '';
  return `, ETA ${formatDuration(stepLeft)} for the step${overdue || ` (took ${formatDuration(estimate)} last time)`}, ${known ? '' : 'at least '}${formatDuration(stepLeft + laterMs)} for the run`;
}
