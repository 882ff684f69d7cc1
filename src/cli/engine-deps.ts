import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJournal } from '../engine/journal.js';
import type { EngineDeps } from '../engine/session.js';
import type { RunHooks } from '../engine/runner.js';
import type { StepKind } from '../engine/step-kind.js';
import { DEFAULT_LOCK, RECIPES_DIR } from './defaults.js';

/** Command-line options that shape the step kinds; a run records them and resume reuses them. */
export interface KindOptions {
  work: string;
  /** distfiles.lock */
  lock: string;
  /** The host's store of verified distfiles. */
  distdir: string;
  mirrors: string[];
  /** Let Portage fetch inside the chroots, and add what it fetched to the lock. */
  record: boolean;
  /** Trust unpinned lock entries on first use, writing their digests into the lock. */
  pin: boolean;
}

export function kindOptions(argv: Record<string, unknown>, recorded: Partial<KindOptions> = {}): KindOptions {
  const work = resolve(String(argv.work));
  const pick = <K extends keyof KindOptions>(key: K, fallback: KindOptions[K]): KindOptions[K] =>
    (argv[key] as KindOptions[K] | undefined) ?? (recorded[key] as KindOptions[K] | undefined) ?? fallback;
  const mirrors = (argv.mirror as string[] | undefined)?.length ? (argv.mirror as string[]) : (recorded.mirrors ?? []);
  return {
    work,
    lock: resolve(pick('lock', DEFAULT_LOCK)),
    distdir: resolve(pick('distdir', join(work, 'distfiles'))),
    mirrors,
    record: Boolean(pick('record', false)),
    pin: Boolean(pick('pin', false)),
  };
}

/**
 * The engine's dependencies: every step kind, scripts run in the sandbox, the run hooks.
 *
 * status, plan and why build these too, and only plan: so a kind is imported when a plan first
 * meets a step of it, its module holds its schema and plan, and it imports what only its run
 * needs (the fetcher, execa, the packer) inside run(). The sandbox and the run hooks
 * (provenance) are loaded when first used, for the same reason.
 * test/e2e/read-only-imports.test.ts checks that planning loads none of undici, execa or
 * listr2, and no kind the recipe does not use. A new kind is added to the table under its
 * `name` (test/unit/cli/engine-deps.test.ts checks the names).
 */
export function engineDeps(options: KindOptions): EngineDeps {
  const { lock: lockPath, distdir: storeDir, record, pin, mirrors } = options;
  const kinds: Record<string, () => Promise<StepKind<any>>> = {
    run: async () => (await import('../steps/run.js')).createRunKind(),
    write: async () => (await import('../steps/write.js')).createWriteKind(),
    distfiles: async () => (await import('../steps/distfiles.js')).createDistfilesKind({ lockPath, storeDir, record, pin, mirrors }),
    pack: async () => (await import('../steps/pack.js')).createPackKind(),
    handoff: async () => (await import('../steps/handoff.js')).createHandoffKind(),
    'packages-build': async () => (await import('../steps/packages-build.js')).createPackagesBuildKind(),
    emerge: async () => (await import('../steps/emerge.js')).createEmergeKind(),
    'live-bootstrap': async () => (await import('../steps/live-bootstrap.js')).createLiveBootstrapKind({ lockPath, storeDir, mirrors }),
  };
  return {
    registry: new Map(Object.entries(kinds).map(([name, load]) => [name, once(load)])),
    recipesDir: RECIPES_DIR,
    runScript: async (request, io) => {
      const { runSandboxed } = await import('../host/sandbox.js');
      return runSandboxed({ root: request.root, script: request.script, env: request.env ?? {}, ...(request.cwd ? { cwd: request.cwd } : {}), output: io.output, signal: io.signal });
    },
    hooks: (plan, work) => {
      let loaded: Promise<RunHooks> | undefined;
      const hooks = () => (loaded ??= import('./run-hooks.js').then((m) => m.runHooks(plan, work, options)));
      return {
        afterStep: async (step, outcome) => (await hooks()).afterStep?.(step, outcome),
        afterRun: async () => (await (await hooks()).afterRun?.()) ?? [],
      };
    },
  };
}

/** The kind options a run in `work` recorded when it started (none when there is no run). */
export function recordedOptions(work: string): Partial<KindOptions> {
  // A --work that is no directory is the engine's to report, with the command's own message.
  if (!isDirectory(resolve(work))) return {};
  const first = readJournal(resolve(work), { head: true })?.events[0];
  return first?.type === 'run-started' ? ((first.options ?? {}) as Partial<KindOptions>) : {};
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The first call's promise, for every call. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => (loaded ??= load());
}
