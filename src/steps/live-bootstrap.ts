import { join } from 'node:path';
import * as z from 'zod';
import { readLock } from '../distfiles/read-lock.js';
import type { PlanContext, PretendResult, RunContext, StepKind, StepOutcome, StepPlan } from '../engine/step-kind.js';
import { liveBootstrapEntries, topSnapshot } from '../live-bootstrap/lock-entries.js';
import { BootstrapError } from '../util/errors.js';

const hostPath = z.string().startsWith('/', { message: 'must be an absolute host path' });

const schema = z.strictObject({
  /** The step's own folder on the host: the placed tree (`checkout/`) and the kept packages (`kept/`). */
  dir: hostPath,
  /** Where rootfs.py builds (its `--target`); must not exist unless an earlier attempt of this step made it. */
  target: hostPath,
  /** rootfs.py's `--cores`. */
  cores: z.string().regex(/^[1-9][0-9]*$/, 'a whole number, 1 or more'),
  /** rootfs.py's `--arch`. */
  arch: z.string().regex(/^[a-z0-9_]+$/).default('x86'),
  /** Build only the manifest's lines before this one (e.g. `build: mes-0.26.1`); empty: the whole manifest. */
  stop_before: z.string().default(''),
  /** The Python that runs rootfs.py (it needs python3-requests to import, though it downloads nothing here). */
  python: z.string().min(1).default('python3'),
});

export type LiveBootstrapSpec = z.output<typeof schema>;
type Spec = LiveBootstrapSpec;

export interface LiveBootstrapKindOptions {
  lockPath: string;
  storeDir: string;
  mirrors?: string[];
}

/**
 * Phase 0: live-bootstrap from its pinned tree and sources, from the 256-byte hex0 seed to
 * the root the next phases start from. Places the tree (live-bootstrap and its submodules at
 * the lock's commits) and the sources its manifest names, then runs
 * `rootfs.py -c --external-sources` in a private mount namespace without a network. A later
 * attempt keeps the packages the earlier one built (checked against SHA256SUMS.pkgs) and hands
 * them to rootfs.py's `--repo`, so only what failed and what follows is built again.
 */
export function createLiveBootstrapKind(options: LiveBootstrapKindOptions): StepKind<Spec> {
  return {
    name: 'live-bootstrap',
    schema,
    needsRoot: () => true,

    async plan(spec, ctx: PlanContext): Promise<StepPlan> {
      if (!ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: a live-bootstrap step runs rootfs.py on the host (root: host)`, { hint: 'Give the step root: host.' });
      }
      const lock = await readLock(options.lockPath);
      const entries = liveBootstrapEntries(lock, options.lockPath);
      const refusals: string[] = [];
      let top: string | undefined;
      try {
        top = topSnapshot(entries, options.lockPath).commit;
      } catch (error) {
        if (!ctx.preview) throw error;
        refusals.push(`step ${ctx.stepId}: ${(error as Error).message}`);
      }
      const command = rootfsCommand(spec, '<kept packages, on a later attempt>');
      return {
        summary: [
          `place live-bootstrap ${top?.slice(0, 12) ?? '(not in the lock)'} with ${entries.snapshots.length - (top ? 1 : 0)} submodules in ${join(spec.dir, 'checkout')}, and the sources its manifest names (of ${entries.sources.length} pinned)`,
          ...(spec.stop_before ? [`cut steps/manifest before "${spec.stop_before}"`] : []),
          `run, in a private mount namespace without network: ${command.join(' ')}`,
          `a later attempt keeps the packages built so far (${join(spec.dir, 'kept')}) and passes them with --repo`,
        ],
        detail: {
          snapshots: entries.snapshots.map((s) => ({ name: s.name, commit: s.commit, path: s.path })),
          sources: Object.fromEntries(entries.sources.map((f) => [f.name, f.integrity])),
          seeds: Object.fromEntries(entries.seeds.map((f) => [f.name, f.integrity])),
          dir: spec.dir,
          target: spec.target,
          cores: spec.cores,
          arch: spec.arch,
          stop_before: spec.stop_before,
          python: spec.python,
        },
        distfiles: [...entries.snapshots.map((s) => s.name), ...entries.sources.map((f) => f.name), ...entries.seeds.map((f) => f.name)],
        refusals,
      };
    },

    async run(spec, _plan, ctx: RunContext): Promise<StepOutcome> {
      const { runLiveBootstrap } = await import('../live-bootstrap/run-phase0.js');
      return runLiveBootstrap(spec, options, ctx);
    },

    async pretend(spec, plan): Promise<PretendResult> {
      const { pretendLiveBootstrap } = await import('../live-bootstrap/run-phase0.js');
      return pretendLiveBootstrap(spec, plan, options);
    },
  };
}

/** rootfs.py's command line, with `--repo` when earlier attempts left packages. */
export function rootfsCommand(spec: Spec, repo: string | undefined): string[] {
  return [spec.python, 'rootfs.py', '-c', '--external-sources', '--cores', spec.cores, '--arch', spec.arch, '--target', spec.target, ...(repo ? ['--repo', repo] : [])];
}

