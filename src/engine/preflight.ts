import { existsSync, mkdirSync, readdirSync, realpathSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { JournalWriter } from './journal.js';
import type { Plan, PlannedStep } from './plan.js';
import { executePlan, type RunResult } from './runner.js';
import { checkPrivileges, planRecipe, runStartedEvent, prepareWorkDir, type EngineDeps, type PlanRequest, type RunControl } from './session.js';
import type { PretendResult, Root, StepKind, StepKindRegistry } from './step-kind.js';
import { acquireWorkLock } from './work-lock.js';

/**
 * `bootstrap preflight`: the recipe's steps up to its last one that has a dry-run form, in a
 * throwaway overlay of the starting root. Steps without a dry-run form (unpacking, writing
 * configuration) run for real in the overlay; steps with one (emerge) are asked instead, and
 * every answer is kept, so one preflight reports every step that would not resolve. The target
 * is only ever the overlay's lower layer: nothing is written to it.
 */

/** The host's side of a preflight (src/host/overlay.ts). */
export interface OverlayMounter {
  /** Mounts an overlay whose lower layer is `lower`, with its upper and work folders in `dir`. */
  mount(lower: string, dir: string): Promise<{ merged: string; unmount: () => Promise<void> }>;
  /** Mount points at or below `dir` (a real path), as the kernel lists them. */
  mountsUnder(dir: string): string[];
}

export interface PreflightRequest extends PlanRequest, RunControl {
  /** Keep the overlay's upper layer (what the steps wrote) for a look afterwards. */
  keep?: boolean;
  command: string;
}

export interface PreflightStepReport {
  step: string;
  title: string;
  /** `asked`: the step's dry-run form answered; `ran`: it ran for real in the overlay. */
  how: 'asked' | 'ran';
  /** Where the preflight stopped in this step: it failed, or was interrupted. */
  stopped?: 'failed' | 'interrupted';
  result?: PretendResult;
  log?: string;
}

export interface PreflightReport {
  recipe: string;
  /** The starting root the overlay covers, and where the preflight's files are. */
  lower: string;
  dir: string;
  steps: PreflightStepReport[];
  /** The first step out of the preflight's reach, and why. */
  stoppedBefore?: { step: string; reason: string };
  run: RunResult;
  /** True when every step ran and every asked step resolved. */
  ok: boolean;
}

const MARKER = '.bootstrap-preflight';

export async function runPreflight(request: PreflightRequest, deps: EngineDeps & { overlay: OverlayMounter }): Promise<PreflightReport> {
  const work = resolve(request.work);
  const base = await planRecipe({ ...request, work, allowMissing: false }, deps);
  const lowerRoot = startingRoot(base);
  const { last, stoppedBefore } = preflightRange(base, request.until);
  checkPrivileges(base, 0);
  prepareWorkDir(work);
  const lock = await acquireWorkLock(work, request.command);
  try {
    // The real path: mountinfo names the overlay by it, and unmounting goes by that name.
    const dir = freshPreflightDir(realpathSync(work), deps.overlay);
    const overlay = await deps.overlay.mount(lowerRoot.path, dir);
    try {
      const answers = new Map<string, PretendResult>();
      const plan = await planRecipe(
        { ...request, work, allowMissing: false, mapRoot: (root) => moveRoot(root, lowerRoot.path, overlay.merged) },
        { ...deps, registry: askingRegistry(deps.registry, answers) },
      );
      const journal = JournalWriter.open(dir);
      let run: RunResult;
      try {
        journal.append(runStartedEvent(plan, request.given, { preflight: true, lower: lowerRoot.path }));
        const steps = plan.steps.slice(0, last.index + 1);
        request.reporter.runStarting({ steps, startIndex: 0, estimates: new Map() });
        try {
          run = await executePlan({ plan: { ...plan, steps }, workDir: dir, journal, state: undefined, startIndex: 0, reporter: request.reporter, runScript: deps.runScript, signal: request.signal });
        } finally {
          await request.reporter.runEnded();
        }
      } finally {
        journal.close();
      }
      const stoppedIn = run.status === 'failed' ? run.step : run.status === 'interrupted' ? run.step : null;
      const reached = stoppedIn ? stoppedIn.index : run.status === 'interrupted' ? -1 : last.index;
      const steps: PreflightStepReport[] = plan.steps.slice(0, reached + 1).map((step) => {
        const result = answers.get(step.id);
        return {
          step: step.id,
          title: step.title,
          how: step.kind.pretend ? 'asked' : 'ran',
          ...(result ? { result } : {}),
          ...(step === stoppedIn ? { stopped: run.status as 'failed' | 'interrupted' } : {}),
          ...logOf(dir, step),
        };
      });
      const ok = run.status === 'finished' && steps.every((s) => s.how === 'ran' || s.result?.ok === true);
      const report: PreflightReport = { recipe: plan.recipe.file.name, lower: lowerRoot.path, dir, steps, ...(stoppedBefore ? { stoppedBefore } : {}), run, ok };
      writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      return report;
    } finally {
      await overlay.unmount();
      if (!request.keep) {
        for (const layer of ['upper', 'overlay-work']) rmSync(join(dir, layer), { recursive: true, force: true });
        // The mount point: empty once unmounted, and never removed recursively.
        rmdirSync(join(dir, 'merged'));
      }
    }
  } finally {
    await lock.release();
  }
}

function startingRoot(plan: Plan): Root {
  const name = plan.recipe.file.starting_point?.root;
  const root = name === undefined ? undefined : plan.roots[name];
  if (!root || root.host) {
    throw new BootstrapError('ERECIPE', `recipe ${plan.recipe.file.name} names no starting root for a preflight to overlay`, {
      hint: 'Give the recipe a starting_point with the root it starts from (starting_point.root).',
    });
  }
  return root;
}

/**
 * A preflight ends at the last step with a dry-run form before the first step whose root does
 * not exist yet: such a root (a new system the run builds) is made by the real builds.
 */
function preflightRange(plan: Plan, until: string | undefined): { last: PlannedStep; stoppedBefore?: { step: string; reason: string } } {
  const unreachable = plan.steps.find((s) => !s.root.host && !statSync(s.root.path, { throwIfNoEntry: false })?.isDirectory());
  const reach = unreachable ? plan.steps.slice(0, unreachable.index) : plan.steps;
  const stoppedBefore = unreachable && { step: unreachable.id, reason: `root ${unreachable.root.name} (${unreachable.root.path}) does not exist before a real run builds it` };
  if (until !== undefined) {
    const last = reach.find((s) => s.id === until);
    if (!last) {
      throw new BootstrapError('ESTEP', `--until ${until}: no step ${until} within the preflight's reach`, {
        hint: `A preflight reaches ${reach.map((s) => s.id).join(', ')}${stoppedBefore ? `; it stops before ${stoppedBefore.step}: ${stoppedBefore.reason}` : ''}.`,
      });
    }
    return { last, ...(stoppedBefore ? { stoppedBefore } : {}) };
  }
  const last = [...reach].reverse().find((s) => s.kind.pretend !== undefined);
  if (!last) {
    throw new BootstrapError('ESTEP', `recipe ${plan.recipe.file.name} has no step with a dry-run form within a preflight's reach`, {
      hint: 'A preflight asks steps whose kind has a dry-run form (e.g. emerge); the others only run.',
    });
  }
  return { last, ...(stoppedBefore ? { stoppedBefore } : {}) };
}

/** The same kinds, except that a kind with a dry-run form answers instead of running. */
function askingRegistry(registry: StepKindRegistry, answers: Map<string, PretendResult>): StepKindRegistry {
  const asking = (kind: StepKind<any>): StepKind<any> => {
    const pretend = kind.pretend;
    if (pretend === undefined) return kind;
    return {
      ...kind,
      async run(spec, plan, ctx) {
        const answer = await pretend.call(kind, spec, plan, ctx);
        answers.set(ctx.stepId, answer);
        ctx.log.note(answer.ok ? `resolves: ${answer.would.length} to do` : `does not resolve: ${answer.problems.map((p) => p.kind).join(', ')}`);
      },
    };
  };
  return new Map([...registry].map(([name, load]) => [name, async () => asking(await load())]));
}

/** A root inside the starting root moves into the overlay, and gets its preflight prelude. */
function moveRoot(root: Root, lower: string, merged: string): Root {
  if (root.host || (root.path !== lower && !root.path.startsWith(`${lower}/`))) return root;
  return {
    ...root,
    path: merged + root.path.slice(lower.length),
    prelude: [root.prelude, root.preflightPrelude].filter((part) => part !== '').join('\n'),
  };
}

/**
 * `<work>/preflight`, emptied if an earlier preflight made it (its marker goes last, so a
 * clear-out that fails halfway still knows the folder as its own); anything else there, or a
 * mount below it (e.g. kept layers mounted for a look), is refused.
 */
function freshPreflightDir(work: string, host: OverlayMounter): string {
  const dir = join(work, 'preflight');
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER))) {
      throw new BootstrapError('EEXIST', `${dir} exists and was not made by bootstrap preflight`, { hint: 'Move it away, or give another --work.' });
    }
    const mounted = host.mountsUnder(dir);
    if (mounted.length > 0) {
      throw new BootstrapError('EBUSY', `${dir} has mounts below it: ${mounted.join(', ')}`, { hint: 'Unmount them (umount by that absolute path), then run the preflight again.' });
    }
    for (const name of readdirSync(dir)) if (name !== MARKER) rmSync(join(dir, name), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'made by bootstrap preflight; removed by the next one\n');
  return dir;
}

function logOf(dir: string, step: PlannedStep): { log?: string } {
  const prefix = `${String(step.index + 1).padStart(3, '0')}-${step.id}.`;
  const name = readdirSync(join(dir, 'logs')).find((f) => f.startsWith(prefix));
  return name ? { log: join(dir, 'logs', name) } : {};
}
