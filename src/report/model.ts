/**
 * What a report shows: the run as its journal tells it, with the packages each emerge step
 * merged, as Portage's emerge.log tells it. Times are epoch milliseconds.
 */

export type AttemptStatus = 'done' | 'failed' | 'interrupted' | 'running' | 'lost';
export type PackageStatus = 'done' | 'failed' | 'running';

export interface PackageReport {
  /** `cat/pkg-ver` */
  name: string;
  /** `(index of total)` in its emerge. */
  index: number;
  total: number;
  /** The ROOT Portage merged into. */
  root: string;
  start: number;
  end: number;
  status: PackageStatus;
  exitStatus?: number;
  /** The emerge.log it came from (a host path). */
  log: string;
}

export interface AttemptReport {
  attempt: number;
  start: number;
  end: number;
  status: AttemptStatus;
  exitCode?: number | null;
  signal?: string;
  log?: string;
  packages: PackageReport[];
}

export interface StepReport {
  id: string;
  title: string;
  /** The step kind (`run`, `emerge`, …); `unknown` when the recipe could not be planned. */
  kind: string;
  attempts: AttemptReport[];
}

export interface PhaseReport {
  id: string;
  title: string;
  steps: StepReport[];
}

/** One `bootstrap run` or `resume`: from its journal event to its last. */
export interface Invocation {
  kind: 'run' | 'resume';
  start: number;
  end: number;
  /** For a resume, the first step it ran. */
  from?: string;
  /** How it ended: `finished`, `failed`, `interrupted`, `stopped` (e.g. --until), `killed`, `running`. */
  ended: 'finished' | 'failed' | 'interrupted' | 'stopped' | 'killed' | 'running';
}

export interface EmergeLogSummary {
  path: string;
  merges: number;
  /** Merges outside every emerge attempt of this run (earlier runs, or by hand). */
  outside: number;
  tornLines: number;
}

export interface ReportData {
  work: string;
  recipe: { name: string; version: string };
  runId: string;
  /** When the report was made: the end of whatever is still running. */
  generated: number;
  start: number;
  end: number;
  state: 'finished' | 'failed' | 'interrupted' | 'running' | 'stopped' | 'unknown';
  invocations: Invocation[];
  phases: PhaseReport[];
  emergeLogs: EmergeLogSummary[];
  /** What the report could not show, or shows with a caveat. */
  notes: string[];
}

export function allSteps(data: ReportData): StepReport[] {
  return data.phases.flatMap((p) => p.steps);
}

export function allPackages(data: ReportData): Array<PackageReport & { step: string; attempt: number }> {
  return allSteps(data).flatMap((s) => s.attempts.flatMap((a) => a.packages.map((p) => ({ ...p, step: s.id, attempt: a.attempt }))));
}
