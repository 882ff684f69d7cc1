import { readFileSync, statSync } from 'node:fs';
import type { JournalEvent } from '../engine/journal.js';
import type { Plan } from '../engine/plan.js';
import { errnoCode } from '../util/errors.js';
import { attributeMerges, type EmergeAttempt } from './attribute-merges.js';
import { readEmergeLog } from './emerge-log.js';
import { emergeLogPaths } from './emerge-log-paths.js';
import { journalTimeline } from './journal-timeline.js';
import type { EmergeLogSummary, PhaseReport, ReportData, StepReport } from './model.js';

export interface ReportInput {
  work: string;
  events: readonly JournalEvent[];
  /** Bytes of a torn last journal line. */
  tornBytes: number;
  /** The recipe planned with the run's parameters; undefined when it cannot be (`planError`). */
  plan?: Plan;
  planError?: string;
  now: number;
}

/** The run as its journal and its roots' emerge.log files tell it. Reads files; never throws for what they hold. */
export function buildReport(input: ReportInput): ReportData {
  const { events, plan, now } = input;
  const first = events[0];
  const notes: string[] = [];
  if (input.tornBytes > 0) notes.push(`The journal's last line is torn (${input.tornBytes} bytes, a write cut off): left out.`);
  const timeline = journalTimeline(events, now, lastWrite);
  notes.push(...timeline.notes);

  const phases: PhaseReport[] = [];
  const placed = new Set<string>();
  const stepOf = (id: string, title: string, kind: string): StepReport => {
    placed.add(id);
    return { id, title, kind, attempts: timeline.attempts.get(id) ?? [] };
  };
  if (plan) {
    for (const phase of plan.phases) phases.push({ id: phase.id, title: phase.title, steps: phase.steps.map((s) => stepOf(s.id, s.title, s.kind.name)) });
  } else {
    notes.push(`The recipe could not be planned, so phases and emerge.log files are not shown: ${input.planError ?? 'unknown reason'}`);
    const ids = first?.type === 'run-started' ? first.steps : [];
    phases.push({ id: 'steps', title: 'Steps (phases unknown)', steps: ids.map((id) => stepOf(id, id, 'unknown')) });
  }
  const strays = [...timeline.attempts.keys()].filter((id) => !placed.has(id));
  if (strays.length > 0) {
    phases.push({ id: 'not-in-recipe', title: 'Steps the recipe no longer has', steps: strays.map((id) => stepOf(id, id, 'unknown')) });
    notes.push(`Steps in the journal that the recipe no longer has: ${strays.join(', ')}.`);
  }

  const emergeLogs = plan ? attachPackages(plan, phases, notes) : [];

  const times = [...timeline.invocations.flatMap((i) => [i.start, i.end])];
  const start = times.length ? Math.min(...times) : now;
  const end = times.length ? Math.max(...times) : now;
  const lastInvocation = timeline.invocations.at(-1);
  const state: ReportData['state'] = lastInvocation
    ? lastInvocation.ended === 'killed'
      ? 'unknown'
      : lastInvocation.ended
    : 'unknown';
  return {
    work: input.work,
    recipe: first?.type === 'run-started' ? { name: first.recipe.name, version: first.recipe.version } : { name: '(unknown)', version: '' },
    runId: first?.type === 'run-started' ? first.runId : '',
    generated: now,
    start,
    end,
    state,
    invocations: timeline.invocations,
    phases,
    emergeLogs,
    notes,
  };
}

function attachPackages(plan: Plan, phases: PhaseReport[], notes: string[]): EmergeLogSummary[] {
  const steps = new Map(phases.flatMap((p) => p.steps).map((s) => [s.id, s]));
  const byLog = new Map<string, EmergeAttempt[]>();
  for (const planned of plan.steps) {
    if (planned.kind.name !== 'emerge') continue;
    const step = steps.get(planned.id);
    for (const path of emergeLogPaths(planned)) {
      const list = byLog.get(path) ?? [];
      list.push(...(step?.attempts ?? []).map((attempt) => ({ step: planned.id, attempt })));
      byLog.set(path, list);
    }
  }
  const summaries: EmergeLogSummary[] = [];
  for (const [path, attempts] of byLog) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      const code = errnoCode(error);
      // Only worth a note when an emerge step ran in that root and its log is not where Portage writes it.
      if (code !== 'ENOENT') notes.push(`${path} cannot be read (${code ?? String(error)}): its packages are not shown.`);
      continue;
    }
    const log = readEmergeLog(text);
    const outside = attributeMerges(path, log.merges, attempts);
    for (const torn of [...log.torn].sort((a, b) => a.line - b.line).slice(0, 5)) notes.push(`${path} line ${torn.line} is not an emerge.log line (torn?): "${torn.text}"; left out.`);
    if (log.torn.length > 5) notes.push(`${path}: ${log.torn.length - 5} more lines like that.`);
    if (outside > 0) notes.push(`${path}: ${outside} merges happened outside this run's emerge steps (an earlier run, or by hand): not shown.`);
    summaries.push({ path, merges: log.merges.length, outside, tornLines: log.torn.length });
  }
  const ran = plan.steps.some((s) => s.kind.name === 'emerge' && (steps.get(s.id)?.attempts.length ?? 0) > 0);
  if (ran && summaries.length === 0) notes.push(`Emerge steps ran, but no emerge.log was found where their Portage writes it (${[...byLog.keys()].join(', ')}): packages are not shown.`);
  return summaries;
}

function lastWrite(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
