import { accessSync, constants, mkdirSync, renameSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { foldJournal, type RunState } from './fold-journal.js';
import { JournalWriter, readJournal, JOURNAL_FILE, JOURNAL_VERSION, type RunStartedEvent } from './journal.js';
import { builtins, resolveParams, type Builtins } from './params.js';
import { buildPlan, type Plan } from './plan.js';
import { findRecipe, keepRecipe, loadRecipe } from './recipe/load-recipe.js';
import type { Reporter } from './reporter.js';
import { resumePoint, type ResumePoint } from './resume-point.js';
import { executePlan, type RunHooks, type RunResult, type ScriptRunner } from './runner.js';
import type { Root, StepKindRegistry } from './step-kind.js';
import { acquireWorkLock, workLockHolder, type LockHolder } from './work-lock.js';

/** What the CLI gives the engine: the step kinds, how scripts run, where named recipes live. */
export interface EngineDeps {
  registry: StepKindRegistry;
  runScript: ScriptRunner;
  recipesDir: string;
  /** Hooks for a run (e.g. provenance at the end), made once the plan is known. */
  hooks?: (plan: Plan, workDir: string) => RunHooks;
}

export interface PlanRequest {
  recipe: string;
  work: string;
  given: Record<string, string>;
  /** For `bootstrap plan`: a preview; parameters without a value show as `<name>` instead of failing. */
  allowMissing?: boolean;
  /** Moves roots elsewhere (a preflight's overlay). */
  mapRoot?: (root: Root) => Root;
}

export async function planRecipe(request: PlanRequest, deps: EngineDeps): Promise<Plan> {
  const work = resolve(request.work);
  checkWorkPath(work);
  const recipe = await loadRecipe(findRecipe(request.recipe, deps.recipesDir), { work });
  const params = resolveParams(recipe, {
    builtins: builtins(work, recipe.dir),
    given: request.given,
    allowMissing: request.allowMissing ?? false,
  });
  return buildPlan(recipe, params, deps.registry, { preview: request.allowMissing ?? false, ...(request.mapRoot ? { mapRoot: request.mapRoot } : {}) });
}

export interface RunControl {
  reporter: Reporter;
  signal: AbortSignal;
  until?: string;
}

export async function startRun(request: PlanRequest & RunControl & { fresh?: boolean; command: string; options?: Record<string, unknown> }, deps: EngineDeps): Promise<{ plan: Plan; result: RunResult }> {
  const work = resolve(request.work);
  const plan = await planRecipe({ ...request, work, allowMissing: false }, deps);
  checkUntil(plan, request.until);
  checkPrivileges(plan, 0);
  prepareWorkDir(work);
  const lock = await acquireWorkLock(work, request.command);
  try {
    const existing = readJournal(work);
    const previous = existing && foldJournal(existing.events);
    if (previous) {
      if (!request.fresh) {
        const done = [...previous.steps.values()].filter((s) => s.status === 'done').length;
        throw new BootstrapError('EEXIST', `${work} already holds a run of recipe ${previous.started.recipe.name} (${done} of ${previous.started.steps.length} steps done, ${previous.finished ? 'finished' : 'not finished'})`, {
          hint: `Continue it with \`bootstrap resume --work ${work}\`, or start over with --fresh (the old journal is kept beside the new one).`,
        });
      }
      renameSync(existing.path, `${existing.path.replace(/\.jsonl$/, '')}.${previous.started.time.replace(/[:.]/g, '-')}.jsonl`);
    }
    keepRecipe(plan.recipe, work);
    const journal = JournalWriter.open(work);
    try {
      journal.append(runStartedEvent(plan, request.given, request.options));
      const result = await execute(plan, work, journal, 0, request, deps, previous ?? undefined, () => planRecipe({ ...request, work, allowMissing: false }, deps));
      return { plan, result };
    } finally {
      journal.close();
    }
  } finally {
    await lock.release();
  }
}

/** The first event of a run's journal: what runs, with every parameter frozen. */
export function runStartedEvent(plan: Plan, given: Record<string, string>, options?: Record<string, unknown>): RunStartedEvent {
  return {
    type: 'run-started',
    tool: 'bootstrap',
    journalVersion: JOURNAL_VERSION,
    time: new Date().toISOString(),
    runId: randomUUID(),
    recipe: { name: plan.recipe.file.name, version: plan.recipe.file.version, path: plan.recipe.path, digest: plan.recipe.digest },
    // A parameter whose detection waits for the run is not frozen: a resume detects it.
    params: Object.fromEntries(Object.entries(plan.params.values).filter(([k]) => plan.params.sources[k] !== 'deferred')),
    given,
    steps: plan.steps.map((s) => s.id),
    ...(options ? { options } : {}),
  };
}

export interface ResumeRequest extends RunControl {
  work: string;
  from?: string;
  given: Record<string, string>;
  command: string;
}

export async function resumeRun(request: ResumeRequest, deps: EngineDeps): Promise<{ plan: Plan; result: RunResult | { status: 'nothing-to-do' }; point: ResumePoint }> {
  const work = resolve(request.work);
  requireWorkDir(work, false);
  await checkResumePrivileges(work, request, deps);
  requireWorkDir(work, true);
  const lock = await acquireWorkLock(work, request.command);
  try {
    const state = requireRun(work);
    const plan = await planFromJournal(state, work, request.given, deps);
    checkUntil(plan, request.until);
    const point = resumePoint(plan, state, request.from);
    if (point.startIndex === plan.steps.length && state.finished) return { plan, result: { status: 'nothing-to-do' }, point };
    checkPrivileges(plan, point.startIndex);
    keepRecipe(plan.recipe, work);
    const journal = JournalWriter.open(work);
    try {
      journal.append({
        type: 'run-resumed',
        time: new Date().toISOString(),
        from: plan.steps[point.startIndex]?.id ?? '(end of run)',
        given: request.given,
        steps: plan.steps.map((s) => s.id),
      });
      const result = await execute(plan, work, journal, point.startIndex, request, deps, state, () => planFromJournal(state, work, request.given, deps));
      return { plan, result, point };
    } finally {
      journal.close();
    }
  } finally {
    await lock.release();
  }
}

/**
 * Without root, before the work directory's lock (which a run root started keeps root's): a
 * resume whose remaining steps need root says so, as `run` does, instead of failing on a file.
 * Anything else this finds wrong is left to the resume itself, which reports it with the lock held.
 */
async function checkResumePrivileges(work: string, request: ResumeRequest, deps: EngineDeps): Promise<void> {
  if (process.getuid?.() === 0) return;
  let plan: Plan;
  let startIndex: number;
  try {
    const state = requireRun(work);
    plan = await planFromJournal(state, work, request.given, deps);
    startIndex = resumePoint(plan, state, request.from).startIndex;
  } catch (error) {
    if (['EACCES', 'EPERM'].includes(errnoCode(error) ?? '')) {
      throw new BootstrapError('ENOTROOT', `the run in ${work} is not readable without root privileges (${error instanceof Error ? error.message : String(error)})`, {
        hint: 'Resume it with sudo, as it was started. `bootstrap status` shows it when its journal is readable.',
        exitCode: 2,
      });
    }
    return;
  }
  checkPrivileges(plan, startIndex);
}

export interface StatusReport {
  work: string;
  state: RunState;
  /** Undefined when the recipe can no longer be loaded; `planError` says why. */
  plan?: Plan;
  point?: ResumePoint;
  planError?: string;
  /**
   * The run that holds the work directory's lock now, if any: its steps left `started` in the
   * journal are running, not interrupted.
   */
  running?: LockHolder;
}

/** Read-only: no lock is taken (the lock holder's helper says whether it still holds it), nothing is written. */
export async function runStatus(workDir: string, deps: EngineDeps): Promise<StatusReport> {
  const work = resolve(workDir);
  requireWorkDir(work, false);
  const state = requireRun(work);
  const holder = workLockHolder(work);
  const running = holder ? { running: holder } : {};
  try {
    const plan = await planFromJournal(state, work, {}, deps);
    return { work, state, plan, point: resumePoint(plan, state), ...running };
  } catch (error) {
    return { work, state, planError: error instanceof Error ? error.message : String(error), ...running };
  }
}

/**
 * `previous` is the run so far (resume) or the run a --fresh run replaces: its durations are the
 * estimates, and attempt numbers go on from it, so no log file is ever reused.
 */
async function execute(plan: Plan, work: string, journal: JournalWriter, startIndex: number, control: RunControl, deps: EngineDeps, previous: RunState | undefined, replan: () => Promise<Plan>): Promise<RunResult> {
  let latest = plan;
  const hooks = deps.hooks;
  const estimates = new Map<string, number>();
  for (const s of previous?.steps.values() ?? []) if (s.finished) estimates.set(s.id, s.finished.durationMs);
  control.reporter.runStarting({ steps: plan.steps, startIndex, estimates });
  try {
    return await executePlan({
      plan,
      workDir: work,
      journal,
      state: previous,
      startIndex,
      reporter: control.reporter,
      runScript: deps.runScript,
      signal: control.signal,
      // The hooks see the plan as it stands: after a replan, the detected values (provenance).
      replan: async () => (latest = await replan()),
      ...(control.until ? { until: control.until } : {}),
      ...(hooks ? { hooks: { afterStep: async (step, outcome) => hooks(latest, work).afterStep?.(step, outcome), afterRun: async () => (await hooks(latest, work).afterRun?.()) ?? [] } } : {}),
    });
  } finally {
    await control.reporter.runEnded();
  }
}

/** The plan of the journal's recipe with the run's frozen parameters (and any new --set). */
export async function planFromJournal(state: RunState, work: string, given: Record<string, string>, deps: EngineDeps): Promise<Plan> {
  const recipe = await loadRecipe(state.started.recipe.path, { work });
  const host = builtins(work, recipe.dir);
  const frozen = state.params;
  const fixed = Object.fromEntries(Object.keys(host).map((k) => [k, k === 'work' || k === 'recipe_dir' ? host[k as keyof Builtins] : (frozen[k] ?? host[k as keyof Builtins])])) as unknown as Builtins;
  const declared = Object.fromEntries(Object.entries(frozen).filter(([k]) => k in recipe.file.parameters));
  // What the run was given stays given (a phase left out for it stays out); the rest is frozen.
  const wasGiven = Object.fromEntries(Object.keys(state.given).filter((k) => k in declared).map((k) => [k, declared[k]!]));
  const params = resolveParams(recipe, { builtins: fixed, given: { ...wasGiven, ...given }, frozen: declared });
  return buildPlan(recipe, params, deps.registry);
}

/**
 * Before planning (roots usually live under the work directory): the work directory, or the
 * nearest of its parents that exists, must be a directory. Nothing is created.
 */
function checkWorkPath(work: string): void {
  for (let path = work; ; path = dirname(path)) {
    let info;
    try {
      info = statSync(path, { throwIfNoEntry: false });
    } catch (error) {
      if (errnoCode(error) === 'ENOTDIR') continue;
      // Not ours to look into (e.g. `plan` as another user): the run that uses it will say.
      return;
    }
    if (info === undefined) continue;
    if (!info.isDirectory()) {
      throw new BootstrapError('EWORK', `--work ${work} cannot be used as a work directory: ${path} is a file, not a directory`, {
        hint: 'Give --work a directory bootstrap can create and write to: it keeps the journal, the logs and the lock there.',
      });
    }
    return;
  }
}

/** Makes the work directory of a new run (or preflight), or says clearly why that path cannot be one. */
export function prepareWorkDir(work: string): void {
  try {
    mkdirSync(work, { recursive: true });
    accessSync(work, constants.W_OK);
  } catch (error) {
    // A recursive mkdir on a read-only file system says ENOENT: ask the parent that exists why.
    if (errnoCode(error) === 'ENOENT') {
      let parent = dirname(work);
      while (parent !== dirname(parent) && !statSync(parent, { throwIfNoEntry: false })) parent = dirname(parent);
      try {
        accessSync(parent, constants.W_OK);
      } catch (why) {
        throw workDirError(work, why);
      }
    }
    throw workDirError(work, error);
  }
}

function requireWorkDir(work: string, writable: boolean): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(work, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch (error) {
    if (errnoCode(error) !== 'ENOTDIR') throw workDirError(work, error);
  }
  if (!isDirectory) {
    throw new BootstrapError('ENOWORK', `no work directory at ${work}`, { hint: 'Give the --work directory of a run started with bootstrap run.' });
  }
  if (!writable) return;
  try {
    accessSync(work, constants.W_OK);
  } catch (error) {
    throw workDirError(work, error);
  }
}

function workDirError(work: string, error: unknown): BootstrapError {
  const code = errnoCode(error);
  const why =
    code === 'EEXIST' || code === 'ENOTDIR'
      ? 'a file is in the way (not a directory)'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EROFS'
          ? 'the file system is read-only'
          : error instanceof Error
            ? error.message
            : String(error);
  return new BootstrapError('EWORK', `--work ${work} cannot be used as a work directory: ${why}`, {
    hint: 'Give --work a directory bootstrap can create and write to: it keeps the journal, the logs and the lock there.',
  });
}

export function requireRun(work: string): RunState {
  const journal = readJournal(work);
  const state = journal && foldJournal(journal.events);
  if (!state) {
    throw new BootstrapError('ENORUN', `no run in ${work} (no ${JOURNAL_FILE})`, { hint: 'Start one with bootstrap run --recipe NAME --work DIR.' });
  }
  return state;
}

function checkUntil(plan: Plan, until: string | undefined): void {
  if (until !== undefined && !plan.steps.some((s) => s.id === until)) {
    throw new BootstrapError('ESTEP', `--until ${until}: recipe ${plan.recipe.file.name} has no step ${until}`, {
      hint: `Steps: ${plan.steps.map((s) => s.id).join(', ')}.`,
    });
  }
}

export function checkPrivileges(plan: Plan, startIndex: number): void {
  if (process.getuid?.() === 0) return;
  const step = plan.steps.slice(startIndex).find((s) => s.needsRoot);
  if (step) {
    throw new BootstrapError('ENOTROOT', `step ${step.id} runs in root ${step.root.name} and needs root privileges (mount, chroot, namespaces)`, {
      hint: 'Run it with sudo. `bootstrap plan` needs no root.',
      exitCode: 2,
    });
  }
}
