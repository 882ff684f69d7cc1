import { stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import * as z from 'zod';
import type { PlanContext, Root, StepKind } from '../engine/step-kind.js';
import { catalystCommands, catalystSetupBlock } from '../handoff/commands.js';
import { shellQuote } from '../util/shell-quote.js';
import { hashFile } from '../handoff/digests-file.js';
import { DEFAULT_SEED_FOLDER, DEFAULT_STOREDIR } from '../handoff/defaults.js';
import { INIT_SYSTEMS, type InitSystem } from '../handoff/guide-edits.js';
import { handoff, RELENG_FOLDER } from '../handoff/handoff.js';
import { checkSafeName, parseSeedName } from '../handoff/names.js';
import { DEFAULT_INIT, stagesFor } from '../handoff/specs.js';
import { BootstrapError } from '../util/errors.js';

const absolute = z.string().startsWith('/', { message: 'must be an absolute path' });

const schema = z
  .object({
    /** The seed tarball: an absolute host path, or a path inside `seed_root`. */
    seed: z.string().min(1),
    /** Name of the recipe root the seed lives in (e.g. the root `pack` wrote it into). */
    seed_root: z.string().min(1).optional(),
    /**
     * Name of the recipe root Catalyst will run in (e.g. the bootstrapped root a VM image is
     * made from): files go below it, paths inside them are as that system sees them.
     */
    target_root: z.string().min(1).optional(),
    storedir: absolute.default(DEFAULT_STOREDIR),
    /** The folder under `builds/` the seed goes in (the guide's `default`). */
    seed_folder: z.string().default(DEFAULT_SEED_FOLDER),
    /** releng's stage specs: the guide's systemd ones, or openrc. */
    init: z.enum(INIT_SYSTEMS as [InitSystem, ...InitSystem[]]).default(DEFAULT_INIT),
    treeish: z.string().min(1).optional(),
    /**
     * With no tree-ish and no snapshot (the usual case at the end of a chain: Catalyst's snapshot
     * is made later, on the Catalyst machine), keep `@TREEISH@` in the specs.
     */
    defer_treeish: z.boolean().default(true),
    timestamp: z.string().min(1).optional(),
    /**
     * Gentoo's releng: the pinned snapshot tarball (placed by a `distfiles` step) or a checkout;
     * an absolute host path, or a path inside `releng_root`. Required to run.
     */
    releng: absolute.optional(),
    /** Name of the recipe root `releng` is inside (e.g. the root a distfiles step placed it in). */
    releng_root: z.string().min(1).optional(),
    specs_dir: absolute.optional(),
    // Parameters arrive as rendered strings, so numbers are coerced.
    jobs: z.coerce.number().int().positive().optional(),
    load_average: z.coerce.number().positive().optional(),
    distdir: absolute.optional(),
    repo_basedir: absolute.optional(),
    repos_storedir: absolute.optional(),
  })
  .strict();

type Spec = z.output<typeof schema>;

function namedRoot(name: string, field: string, roots: Readonly<Record<string, Root>>, stepId: string): Root {
  const root = roots[name];
  if (!root) {
    throw new BootstrapError('ERECIPE', `step ${stepId}: ${field} ${name} is not a root of this recipe`, {
      expected: Object.keys(roots).join(', '),
      found: name,
    });
  }
  return root;
}

function relengPath(spec: Spec, roots: Readonly<Record<string, Root>>, stepId: string): string | undefined {
  if (spec.releng === undefined) {
    if (spec.releng_root !== undefined) throw new BootstrapError('ERECIPE', `step ${stepId}: releng_root without releng`);
    return undefined;
  }
  if (spec.releng_root === undefined) return spec.releng;
  if (spec.releng.split('/').includes('..')) throw new BootstrapError('ERECIPE', `step ${stepId}: releng ${spec.releng} must not leave its root with ".."`);
  return join(namedRoot(spec.releng_root, 'releng_root', roots, stepId).path, posix.normalize(spec.releng));
}

function seedPath(spec: Spec, roots: Readonly<Record<string, Root>>, stepId: string): string {
  if (spec.seed_root === undefined) {
    if (!spec.seed.startsWith('/')) {
      throw new BootstrapError('ERECIPE', `step ${stepId}: seed ${spec.seed} must be an absolute path, or a path inside the root named by seed_root`);
    }
    return spec.seed;
  }
  const root = namedRoot(spec.seed_root, 'seed_root', roots, stepId);
  if (spec.seed.split('/').includes('..')) {
    throw new BootstrapError('ERECIPE', `step ${stepId}: seed ${spec.seed} must not leave its root with ".."`);
  }
  return join(root.path, posix.normalize(posix.join('/', spec.seed)));
}

/** Checks what can be checked before the seed exists: names, profile, suffix. */
function checkSpec(spec: Spec, stepId: string): void {
  const where = (field: string) => `step ${stepId}: ${field}`;
  try {
    checkSafeName('seed folder', spec.seed_folder);
    if (spec.treeish !== undefined) checkSafeName('treeish', spec.treeish);
    if (spec.timestamp !== undefined) checkSafeName('timestamp', spec.timestamp);
    parseSeedName(posix.basename(spec.seed), where('seed'));
  } catch (error) {
    if (error instanceof BootstrapError) {
      throw new BootstrapError(error.code, `step ${stepId}: ${error.message}`, { hint: error.hint, expected: error.expected, found: error.found });
    }
    throw error;
  }
}

/**
 * The last step of a chain: hands the seed to Catalyst (see src/handoff/handoff.ts). It runs on
 * the host and writes only under the storedir and specs folder; it does not start Catalyst,
 * which a recipe can do with a host `run` step, or the builder with `bootstrap handoff --run`.
 */
export function createHandoffKind(): StepKind<Spec> {
  return {
    name: 'handoff',
    schema,
    needsRoot: () => false,
    plan(spec, ctx: PlanContext) {
      if (!ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: handoff steps run on the host root`, {
          hint: 'Set `root: host` on the step; the seed is found through `seed_root`.',
        });
      }
      checkSpec(spec, ctx.stepId);
      const seed = seedPath(spec, ctx.roots, ctx.stepId);
      const target = spec.target_root === undefined ? undefined : namedRoot(spec.target_root, 'target_root', ctx.roots, ctx.stepId);
      const where = target ? ` in root ${target.name} (${target.path})` : '';
      const specsDir = spec.specs_dir ?? join(spec.storedir, 'specs');
      const fileName = posix.basename(spec.seed);
      const builds = join(spec.storedir, 'builds', spec.seed_folder);
      const releng = relengPath(spec, ctx.roots, ctx.stepId);
      return {
        summary: [
          ...(releng === undefined ? ['a run would refuse this step: no releng (give the pinned snapshot a distfiles step placed, see docs/catalyst.md)'] : []),
          `verify ${seed} against ${fileName}.DIGESTS`,
          `place it (hard link or copy) as ${join(builds, fileName)}${where}, with .DIGESTS and .CONTENTS.gz`,
          `write ${join(specsDir, 'catalyst.conf')}${where}`,
          ...stagesFor(spec.init).map((s) => `write ${join(specsDir, s.file)}${where} (releng's, with the guide's edits)`),
          `write ${join(specsDir, RELENG_FOLDER)}/releases/{portage/stages,portage/isos,kconfig}${where} from releng ${releng ?? '(none given)'} with the guide's edits`,
          `init ${spec.init}, treeish ${spec.treeish ?? `(the storedir's snapshot${spec.defer_treeish ? ', else @TREEISH@ to fill in later' : ''})`}, timestamp ${spec.timestamp ?? '(the seed\'s date)'}`,
        ],
        detail: { ...spec, seed, releng_path: releng ?? null, specs_dir: specsDir, target_root_path: target?.path },
        ...(releng === undefined ? { refusals: ['no releng (give the pinned snapshot a distfiles step placed, see docs/catalyst.md)'] } : {}),
      };
    },
    async run(spec, _plan, ctx) {
      const result = await handoff({
        seed: seedPath(spec, ctx.roots, ctx.stepId),
        storedir: spec.storedir,
        seedFolder: spec.seed_folder,
        init: spec.init,
        treeish: spec.treeish,
        deferTreeish: spec.defer_treeish,
        timestamp: spec.timestamp,
        releng: relengPath(spec, ctx.roots, ctx.stepId),
        specsDir: spec.specs_dir,
        jobs: spec.jobs,
        loadAverage: spec.load_average,
        distdir: spec.distdir,
        repoBasedir: spec.repo_basedir,
        reposStoredir: spec.repos_storedir,
        targetRoot: spec.target_root === undefined ? undefined : namedRoot(spec.target_root, 'target_root', ctx.roots, ctx.stepId).path,
      });
      for (const note of result.notes) ctx.log.note(note);
      ctx.log.note(`applied the guide's ${result.edits.length} edits to releng:`);
      for (const e of result.edits) ctx.log.note(`  ${e.file}: ${e.change === 'replace-line' ? `${JSON.stringify(e.old)} -> ` : `${e.change} `}${JSON.stringify(e.new)}`);
      const artifacts = [];
      for (const path of result.files) {
        // The seed and its CONTENTS were hashed against their DIGESTS already; only the small files are hashed here.
        const sha512 = result.sha512[path] ?? (await hashFile(path, ['SHA512'])).SHA512!;
        artifacts.push({ path, integrity: `sha512-${Buffer.from(sha512, 'hex').toString('base64')}`, size: (await stat(path)).size });
        ctx.log.note(`wrote ${path}`);
      }
      ctx.log.note('Catalyst is not started by this step; run, in order, as root where Catalyst is installed (docs/catalyst.md):');
      for (const c of catalystCommands(result.specsDir, ['catalyst'], stagesFor(spec.init))) ctx.log.note(`  ${shellQuote(c.argv)}`);
      ctx.log.note('On a fresh Catalyst machine (the VM), this block, pasted into a root shell, installs Catalyst as the guide does, makes the snapshot, fills @TREEISH@ and runs them:');
      for (const line of catalystSetupBlock(spec.storedir, result.specsDir, stagesFor(spec.init)).split('\n')) ctx.log.note(`  ${line}`);
      return { artifacts };
    },
  };
}
