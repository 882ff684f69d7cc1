import { posix } from 'node:path';
import * as z from 'zod';
import type { PlanContext, RunContext, StepKind, StepOutcome, StepPlan } from '../engine/step-kind.js';
import { type LockEntry, isPinned } from '../distfiles/lock-schema.js';
import { placeFile } from '../distfiles/place-file.js';
import { readLock } from '../distfiles/read-lock.js';
import { fetchCommandScript, prepareRecordLog } from '../distfiles/record.js';
import { unpinnedMessage } from '../distfiles/unpinned.js';
import { sha256Hex } from '../engine/fingerprint.js';
import { mkdirInRoot, resolveInRoot, writeFileInRoot } from '../host/rooted-fs.js';
import { BootstrapError } from '../util/errors.js';

const absolute = z.string().startsWith('/', { message: 'must be an absolute path inside the root' });

const schema = z
  .strictObject({
    /** Names of distfiles.lock entries to place. */
    files: z.array(z.string().min(1)).default([]),
    /**
     * Also every pinned `source` entry of the lock outside a group: what a `--record` run added, so that a
     * sealed run on a fresh target finds in DISTDIR everything Portage fetched the first time.
     */
    all_sources: z.boolean().default(false),
    /** Where they go inside the root (Portage's DISTDIR, e.g. /var/cache/distfiles). */
    dir: absolute,
    /** Where to install the FETCHCOMMAND script inside the root. */
    fetch_command: absolute.optional(),
  })
  .refine((spec) => spec.files.length > 0 || spec.all_sources || spec.fetch_command !== undefined, {
    message: 'name some files, set all_sources, or give a fetch_command to install',
    path: ['files'],
  });

export type DistfilesSpec = z.infer<typeof schema>;

export interface DistfilesKindOptions {
  lockPath: string;
  storeDir: string;
  /** `--record`: the fetch command downloads and logs instead of refusing; unpinned entries are pinned on first use. */
  record: boolean;
  /** `--pin`: unpinned entries are fetched and pinned on first use (without recording). */
  pin?: boolean;
  mirrors?: string[];
}

/** Digests written by a run (`--pin`, `--record`), as their `from` says (ensure.ts, record.ts). */
function learnedByARun(entry: LockEntry): boolean {
  return /(^|; )(pinned on first use|recorded during) /.test(entry.from ?? '');
}

/** What stands for a lock entry in the step's fingerprint (see plan). */
function fingerprintOf(entry: LockEntry | undefined): Record<string, string | number | boolean | null> {
  if (entry?.signature) return { signedBy: entry.signature.fingerprint, key: entry.signature.key };
  if (entry?.git) return { commit: entry.git.commit };
  if (entry && (learnedByARun(entry) || !isPinned(entry))) return { pinnedByTheRun: true };
  return { size: entry?.size ?? null, integrity: entry?.integrity ?? null };
}

/**
 * The `distfiles` step kind: puts locked, verified distfiles into a root before the steps that
 * build from them, and installs the fetch command that seals the build (or records in
 * `--record` mode). Unpinned entries are an error at plan time unless the kind was created for
 * `--record` or `--pin`, so a sealed run never trusts bytes on first use.
 */
export function createDistfilesKind(options: DistfilesKindOptions): StepKind<DistfilesSpec> {
  const mode = options.record ? 'record' : 'sealed';
  const allowUnpinned = options.record || options.pin === true;
  return {
    name: 'distfiles',
    schema,
    needsRoot: (_spec, root) => !root.host,

    async plan(spec, ctx: PlanContext): Promise<StepPlan> {
      if (ctx.root.host) {
        throw new BootstrapError('EDISTFILESHOST', `step ${ctx.stepId}: a distfiles step places files into a root, not into the host`, {
          hint: 'Give the step a chroot root (root: <name>).',
        });
      }
      const lock = await readLock(options.lockPath);
      const recorded = spec.all_sources
        // Entries of a group belong to another chain's step (live-bootstrap's sources to phase 0),
        // unless a --record run fetched the same file too (record.ts says so in `from`).
        ? Object.keys(lock.distfiles).filter((name) => {
            const entry = lock.distfiles[name]!;
            return entry.kind === 'source' && isPinned(entry) && (entry.group === undefined || / recorded during /.test(entry.from ?? ''));
          })
        : [];
      const names = [...new Set([...spec.files, ...recorded])];
      // What pins each file, in the fingerprint. Digests the run learns itself are not a change
      // of the step's inputs, or a resume would redo this step and everything after it: an entry
      // pinned on first use (--pin) or by a signature stands in by what it was before, and a
      // source a --record run added stands in not at all (the step that recorded it fetched it
      // into the same DISTDIR; a later run of this step still places it, as `names` lists it).
      const files: Record<string, Record<string, string | number | boolean | null>> = {};
      const shown: Record<string, string> = {};
      const refusals: BootstrapError[] = [];
      for (const name of names) {
        const entry = lock.distfiles[name];
        if (!(entry && learnedByARun(entry) && !spec.files.includes(name))) files[name] = fingerprintOf(entry);
        shown[name] = entry?.integrity
          ? `${entry.integrity.slice(0, 27)}…`
          : entry?.signature
            ? `signed by ${entry.signature.fingerprint} (checked with gpgv when fetched)`
            : entry?.git
              ? `git commit ${entry.git.commit}`
              : allowUnpinned ? 'unpinned (pinned on first use)' : 'unpinned';
        if (!entry) {
          refusals.push(
            new BootstrapError('EUNKNOWNDISTFILE', `step ${ctx.stepId}: distfile "${name}" is not in ${options.lockPath}`, {
              hint: 'Add it with `bootstrap lock add URL`, or fix the name in the recipe.',
            }),
          );
        } else if (!isPinned(entry) && !allowUnpinned) {
          refusals.push(
            // One line that says exactly what to do; no separate hint.
            new BootstrapError('EUNPINNED', `step ${ctx.stepId}: ${unpinnedMessage(name, entry, options)}`),
          );
        }
      }
      // `bootstrap plan` shows what a run would refuse; a run refuses it here.
      if (refusals.length > 0 && !ctx.preview) throw refusals[0];
      const summary = [
        `place ${names.length} distfile${names.length === 1 ? '' : 's'} in ${spec.dir}${spec.all_sources ? ' (with every pinned source entry of the lock)' : ''}:`,
        ...names.map((name) => `  ${name}  ${shown[name]}`),
        ...refusals.map((r) => `a run would refuse this step: ${r.message}`),
      ];
      const writes: StepPlan['writes'] = [];
      let scriptSha256: string | null = null;
      if (spec.fetch_command) {
        scriptSha256 = sha256Hex(fetchCommandScript(mode));
        writes.push({ path: spec.fetch_command, sha256: scriptSha256, mode: '0755' });
        summary.push(`install the ${mode} fetch command at ${spec.fetch_command}`);
      }
      return {
        summary,
        detail: { dir: spec.dir, files, fetch_command: spec.fetch_command ?? null, fetch_command_sha256: scriptSha256 },
        writes,
        distfiles: names,
        refusals: refusals.map((r) => r.message),
        notes: names.filter((name) => !lock.distfiles[name] || !isPinned(lock.distfiles[name]!)).map((name) => `unpinned: ${name}${allowUnpinned ? ' (pinned on first use)' : ''}`),
      };
    },

    async run(spec, plan, ctx: RunContext): Promise<StepOutcome> {
      // The fetcher and its views are loaded by a run only, not by plan or status.
      const [{ ensureDistfiles }, { describeEvent }] = await Promise.all([import('../distfiles/ensure.js'), import('../distfiles/progress.js')]);
      // The names the plan settled on: the lock may grow during a --record run.
      const names = plan.distfiles ?? [];
      // ensureDistfiles takes no names as "the whole lock": a step that only installs the
      // fetch command must fetch nothing.
      const placed = names.length === 0 ? {} : await ensureDistfiles({
        lockPath: options.lockPath,
        storeDir: options.storeDir,
        names,
        mirrors: options.mirrors,
        pin: allowUnpinned,
        signal: ctx.signal,
        onProgress: (event) => {
          const line = describeEvent(event);
          if (line) ctx.log.note(line);
        },
      });
      const dir = await mkdirInRoot(ctx.root.path, spec.dir);
      for (const name of names) {
        const target = await resolveInRoot(ctx.root.path, posix.join(spec.dir, name));
        await placeFile(placed[name]!.path, target);
      }
      ctx.log.note(`placed ${names.length} distfiles in ${dir}`);
      if (spec.fetch_command) {
        await writeFileInRoot(ctx.root.path, spec.fetch_command, fetchCommandScript(mode), { mode: 0o755 });
        if (mode === 'record') await prepareRecordLog(ctx.root.path);
        ctx.log.note(`installed the ${mode} fetch command at ${spec.fetch_command}`);
      }
      return { distfiles: Object.fromEntries(names.map((name) => [name, placed[name]!.integrity])) };
    },
  };
}
