import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readJournal } from '../engine/journal.js';
import type { EngineDeps } from '../engine/session.js';
import type { RunHooks } from '../engine/runner.js';
import type { StepKind } from '../engine/step-kind.js';
import { createDistfilesKind } from '../steps/distfiles.js';
import { createEmergeKind } from '../steps/emerge.js';
import { createHandoffKind } from '../steps/handoff.js';
import { createLiveBootstrapKind } from '../steps/live-bootstrap.js';
import { createPackKind } from '../steps/pack.js';
import { createRunKind } from '../steps/run.js';
import { createWriteKind } from '../steps/write.js';
import { createPackagesBuildKind } from '../steps/packages-build.js';
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
 * status, plan and why build these too, and only plan: so a step kind's module holds its schema
 * and plan, and imports what only its run needs (the fetcher, execa, the packer) inside run().
 * The sandbox and the run hooks (provenance) are loaded when first used, for the same reason.
 * test/e2e/read-only-imports.test.ts checks that planning loads none of undici, execa or
 * listr2. A new kind is created here and added to the list.
 */
export function engineDeps(options: KindOptions): EngineDeps {
  const kinds: StepKind<any>[] = [
    createRunKind(),
    createWriteKind(),
    createDistfilesKind({ lockPath: options.lock, storeDir: options.distdir, record: options.record, pin: options.pin, mirrors: options.mirrors }),
    createPackKind(),
    createHandoffKind(),
    createPackagesBuildKind(),
    createEmergeKind(),
    createLiveBootstrapKind({ lockPath: options.lock, storeDir: options.distdir, mirrors: options.mirrors }),
  ];
  return {
    registry: new Map(kinds.map((k) => [k.name, k])),
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
