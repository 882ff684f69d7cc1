import type { PlannedStep } from './plan.js';

export interface StepFailureInfo {
  message: string;
  exitCode: number | null;
  /** The last lines of the step's output, then any details the kind found (e.g. a build.log tail). */
  tail: string[];
  log: string;
}

export interface RunStart {
  steps: PlannedStep[];
  startIndex: number;
  /** Duration of each step's last successful attempt, in ms, where one is known. */
  estimates: ReadonlyMap<string, number>;
}

/** What the runner tells a progress view. Views: listr2 (terminal), plain lines, JSON lines. */
export interface Reporter {
  runStarting(start: RunStart): void;
  stepSkipped(step: PlannedStep, reason: string): void;
  stepStarted(step: PlannedStep, attempt: number, log: string): void;
  stepOutput(step: PlannedStep, line: string): void;
  stepNote(step: PlannedStep, line: string): void;
  stepFinished(step: PlannedStep, durationMs: number): void;
  stepFailed(step: PlannedStep, failure: StepFailureInfo): void;
  interrupted(step: PlannedStep | null, signal: string): void;
  /** Waits until the view has drawn everything. */
  runEnded(): Promise<void>;
}

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}
