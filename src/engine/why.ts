import { resolve } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { fingerprintInputs, inputDigests, inputTexts } from './fingerprint.js';
import type { StepFinishedEvent } from './journal.js';
import { readJournal } from './journal.js';
import { resumePoint, type StepView } from './resume-point.js';
import { planFromJournal, requireRun, type EngineDeps } from './session.js';
import { unifiedDiff } from './text-diff.js';

export interface InputChange {
  name: string;
  change: 'changed' | 'added' | 'removed';
  old?: string;
  new?: string;
  /** Old and new text, as a short unified diff, when the journal kept the old text. */
  diff?: string[];
}

export interface WhyReport {
  work: string;
  step: string;
  kind: string;
  root: string;
  /** As `status` shows it: done, changed, failed, interrupted, pending. */
  view: StepView;
  /** The step's last successful finish, if any. */
  finished?: { time: string; attempt: number; fingerprint: string };
  fingerprint: string;
  /**
   * unchanged: same fingerprint as when it finished; changed: `changes` says which inputs;
   * unknown: changed, but the journal (an older one) kept no inputs to compare; not-finished.
   */
  verdict: 'unchanged' | 'changed' | 'unknown' | 'not-finished';
  changes: InputChange[];
  /** Parameters whose value differs from the one the run had when the step finished. */
  params: Array<{ name: string; old: string | undefined; new: string | undefined }>;
  /** The step's inputs now, name → digest. */
  current: Record<string, string>;
  /** What `resume` would do, and whether this step is among what it runs. */
  resume: { from: string | null; reason: string; runsAgain: boolean };
}

/** Why a step of a run will (or will not) run again: which inputs of its fingerprint changed since it finished. */
export async function whyStep(workDir: string, stepId: string, given: Record<string, string>, deps: EngineDeps): Promise<WhyReport> {
  const work = resolve(workDir);
  const state = requireRun(work);
  const plan = await planFromJournal(state, work, given, deps);
  const step = plan.steps.find((s) => s.id === stepId);
  if (!step) {
    throw new BootstrapError('ESTEP', `recipe ${plan.recipe.file.name} has no step ${stepId}`, { hint: `Steps: ${plan.steps.map((s) => s.id).join(', ')}.` });
  }
  const point = resumePoint(plan, state);
  const inputs = fingerprintInputs(step.material, step.plan.writes);
  const current = inputDigests(inputs);
  const finished = state.steps.get(stepId)?.finished;
  const report: WhyReport = {
    work,
    step: stepId,
    kind: step.kind.name,
    root: step.root.name,
    view: point.views.get(stepId) ?? 'pending',
    fingerprint: step.fingerprint,
    verdict: 'not-finished',
    changes: [],
    params: [],
    current,
    resume: { from: plan.steps[point.startIndex]?.id ?? null, reason: point.reason, runsAgain: step.index >= point.startIndex },
  };
  if (!finished) return report;
  report.finished = { time: finished.time, attempt: finished.attempt, fingerprint: finished.fingerprint };
  report.params = paramChanges(paramsAt(work, finished), plan.params.values);
  if (finished.fingerprint === step.fingerprint) return { ...report, verdict: 'unchanged' };
  if (!finished.inputs) return { ...report, verdict: 'unknown' };
  const texts = inputTexts(inputs, Number.POSITIVE_INFINITY);
  const names = [...new Set([...Object.keys(finished.inputs), ...Object.keys(current)])];
  for (const name of names) {
    const before = finished.inputs[name];
    const now = current[name];
    if (before === now) continue;
    const change: InputChange = { name, change: before === undefined ? 'added' : now === undefined ? 'removed' : 'changed' };
    if (before !== undefined) change.old = before;
    if (now !== undefined) change.new = now;
    const oldText = finished.texts?.[name];
    const newText = texts[name];
    if (oldText !== undefined && newText !== undefined) change.diff = unifiedDiff(oldText, newText);
    report.changes.push(change);
  }
  // Same inputs, other fingerprint: the journal was written by a bootstrap that split them otherwise.
  return { ...report, verdict: report.changes.length ? 'changed' : 'unknown' };
}

/** The run's parameters as they were when the step finished (later resumes may have changed them). */
function paramsAt(work: string, finished: StepFinishedEvent): Record<string, string> {
  const events = readJournal(work)?.events ?? [];
  const params: Record<string, string> = {};
  for (const event of events) {
    if (event.type === 'run-started') Object.assign(params, event.params);
    if (event.type === 'run-resumed') Object.assign(params, event.given);
    if (event.type === 'step-finished' && event.step === finished.step && event.attempt === finished.attempt) break;
  }
  return params;
}

function paramChanges(before: Record<string, string>, now: Record<string, string>): WhyReport['params'] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(now)])].filter((k) => k !== 'work' && k !== 'recipe_dir');
  return names.filter((k) => before[k] !== now[k]).map((k) => ({ name: k, old: before[k], new: now[k] }));
}
