import { posix } from 'node:path';
import * as z from 'zod';
import { StepFailure, type StepKind } from '../engine/step-kind.js';
import { resolveInRoot, writeFileInRoot } from '../host/rooted-fs.js';
import { stackPackagesBuild, type StackedList } from '../portage/profiles.js';
import { BootstrapError } from '../util/errors.js';

const inRoot = z.string().startsWith('/', { message: 'must be an absolute path inside the root' });

const schema = z
  .object({
    /** The Gentoo repository inside the root (its profiles/ folder is stacked). */
    repo: inRoot,
    /** Profile path under profiles/, e.g. default/linux/amd64/23.0. */
    profile: z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'must be a path under profiles/ without ..' }),
    /** Where the list goes inside the root, one atom per line. */
    out: inRoot,
    /**
     * A repository on the host to preview the list from at plan time (`bootstrap plan --repo
     * DIR`). It changes what plan shows, never what the step does.
     */
    preview_repo: z.string().default(''),
  })
  .strict();

type Spec = z.output<typeof schema>;

/**
 * Computes the profile's packages.build list (Portage's stacking, src/portage/profiles.ts) from
 * the repository inside the root and writes it there for the cross emerge to use.
 */
export function createPackagesBuildKind(): StepKind<Spec> {
  return {
    name: 'packages-build',
    schema,
    needsRoot: () => false,
    async plan(spec, ctx) {
      if (ctx.root.host) {
        throw new BootstrapError('ERECIPE', `step ${ctx.stepId}: packages-build writes into a root, not into the host`, {
          hint: 'Give the step the root that holds the repository (root: <name>).',
        });
      }
      const summary = [`stack profile ${spec.profile} from ${posix.join(spec.repo, 'profiles')} in ${ctx.root.name}; write its packages.build list to ${spec.out}`];
      // Only `bootstrap plan` previews: a run must not depend on a host repository it never uses.
      if (ctx.preview && spec.preview_repo !== '') {
        const preview = await stackPackagesBuild(posix.join(spec.preview_repo, 'profiles'), spec.profile).catch((error: unknown) => {
          if (error instanceof BootstrapError) {
            throw new BootstrapError(error.code, `step ${ctx.stepId}: previewing from ${spec.preview_repo}: ${error.message}`, { hint: error.hint });
          }
          throw error;
        });
        summary.push(`packages.build from ${spec.preview_repo} (${preview.atoms.length} atoms):`, ...describe(preview));
      } else {
        summary.push('(give --repo DIR, a Gentoo repository on this host, to see the list here)');
      }
      return { summary, detail: { repo: spec.repo, profile: spec.profile, out: spec.out }, notes: summary.slice(1) };
    },
    async run(spec, _plan, ctx) {
      const profiles = await resolveInRoot(ctx.root.path, posix.join(spec.repo, 'profiles'));
      const list = await stackPackagesBuild(profiles, spec.profile);
      for (const line of describe(list)) ctx.log.note(line);
      if (list.atoms.length === 0) {
        throw new StepFailure(`profile ${spec.profile} lists no packages.build atoms: the profile or the repository is broken`);
      }
      await writeFileInRoot(ctx.root.path, spec.out, list.atoms.map((a) => `${a}\n`).join(''));
      ctx.log.note(`wrote ${list.atoms.length} atoms to ${spec.out}`);
    },
  };
}

function describe(list: StackedList): string[] {
  return [...list.atoms.map((a) => `  ${a}`), ...list.warnings.map((w) => `  warning: ${w}`)];
}
