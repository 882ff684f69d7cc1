import { join, posix, resolve } from 'node:path';
import type { Plan } from '../engine/plan.js';
import { planFromJournal, requireRun, type EngineDeps } from '../engine/session.js';
import type { Root } from '../engine/step-kind.js';
import { BootstrapError, isBootstrapError } from '../util/errors.js';
import { readPackagesIndex } from './packages-index.js';

/** A package folder a run builds into: a PKGDIR as one of its roots sees it. */
export interface RunPkgdir {
  /** What `--root` takes: the root's name for the PKGDIR its env sets, `ROOT:PKGDIR` for one only some steps set. */
  choice: string;
  root: string;
  /** PKGDIR inside the root. */
  pkgdir: string;
  /** The folder on this machine. */
  path: string;
  /** The emerge steps that build into it, and any other step that sets it. */
  steps: string[];
  /** How many packages its index lists; undefined while it has no index (nothing built there yet). */
  packages?: number;
  /** Why its index cannot be read (serving or checking it says more). */
  damaged?: string;
}

/**
 * Every PKGDIR of a run's plan (the recipe with the run's frozen parameters): the one each root's
 * env sets, and those steps set in their own env (gentoo-2025's cross toolchain and cross-built
 * system in the lb root), each with the count of packages its index lists now.
 */
export async function runPkgdirs(plan: Plan): Promise<RunPkgdir[]> {
  const found = new Map<string, RunPkgdir>();
  // `/var/cache/binpkgs/` and `/var/cache/binpkgs` are one folder.
  const clean = (pkgdir: string) => posix.normalize(pkgdir).replace(/(.)\/$/, '$1');
  const add = (root: Root, pkgdir: string, step?: string): void => {
    const inside = clean(pkgdir);
    const key = `${root.name}:${inside}`;
    const own = root.env.PKGDIR !== undefined && clean(root.env.PKGDIR) === inside;
    const entry = found.get(key) ?? { choice: own ? root.name : key, root: root.name, pkgdir: inside, path: root.host ? inside : join(root.path, inside), steps: [] };
    if (step) entry.steps.push(step);
    found.set(key, entry);
  };
  for (const root of Object.values(plan.roots)) if (root.env.PKGDIR) add(root, root.env.PKGDIR);
  for (const step of plan.steps) {
    const own = (step.spec as { env?: Record<string, string> } | undefined)?.env?.PKGDIR;
    const pkgdir = own ?? step.root.env.PKGDIR;
    if (pkgdir && (own !== undefined || step.kind.name === 'emerge')) add(step.root, pkgdir, step.id);
  }
  const all = [...found.values()];
  await Promise.all(all.map((p) => countPackages(p)));
  return all;
}

async function countPackages(p: RunPkgdir): Promise<void> {
  try {
    p.packages = (await readPackagesIndex(p.path)).packages.length;
  } catch (error) {
    // No index: nothing was built there yet.
    if (isBootstrapError(error) && error.code === 'EBINHOSTINDEX' && error.message.includes('no Packages index')) return;
    p.damaged = error instanceof Error ? error.message : String(error);
  }
}

/**
 * The package folder to serve or check: the one `choice` names (`--root`), or else the only one
 * with packages. Throws, listing the folders and how to choose, when that is not one folder.
 * `note` says which was taken and what else the run has.
 */
export function choosePkgdir(found: readonly RunPkgdir[], work: string, choice?: string): { chosen: RunPkgdir; note: string } {
  if (found.length === 0) {
    throw new BootstrapError('ENOPKGDIR', `the run in ${work} sets PKGDIR in none of its roots or steps: it keeps no binary packages`, {
      hint: 'Give the package folder with --pkgdir DIR instead.',
    });
  }
  const others = (chosen: RunPkgdir) => found.filter((p) => p !== chosen);
  const noteFor = (chosen: RunPkgdir, why: string) =>
    [`the run's package folder: ${describe(chosen)} (${why})`, ...(others(chosen).length ? ['the run\'s other package folders (choose with --root):', ...others(chosen).map(line)] : [])].join('\n');
  if (choice !== undefined) {
    const exact = found.find((p) => p.choice === choice);
    const ofRoot = found.filter((p) => p.root === choice);
    const chosen = exact ?? (ofRoot.length === 1 ? ofRoot[0] : undefined);
    if (!chosen) {
      throw new BootstrapError('EUSAGE', `--root ${choice}: ${ofRoot.length > 1 ? `root ${choice} has ${ofRoot.length} package folders` : `the run in ${work} has no package folder by that name`}; its package folders:\n${found.map(line).join('\n')}`, {
        hint: 'Give --root one of the names in the first column.',
      });
    }
    return { chosen, note: noteFor(chosen, `--root ${choice}`) };
  }
  const built = found.filter((p) => p.packages || p.damaged);
  if (built.length === 1) return { chosen: built[0]!, note: noteFor(built[0]!, 'the run\'s only package folder with packages') };
  throw new BootstrapError(
    built.length === 0 ? 'ENOBINPKGS' : 'EBINHOSTAMBIGUOUS',
    `${built.length === 0 ? `no package folder of the run in ${work} has packages yet` : `the run in ${work} has packages in ${built.length} folders; say which`}:\n${found.map(line).join('\n')}`,
    {
      hint: built.length === 0 ? 'Run the steps that build packages first (FEATURES=buildpkg or emerge --buildpkg), or choose a folder with --root.' : `Choose one with --root, e.g. --root ${built[0]!.choice}.`,
    },
  );
}

function describe(p: RunPkgdir): string {
  return `PKGDIR ${p.pkgdir} of root ${p.root}, ${p.path}`;
}

function line(p: RunPkgdir): string {
  const steps = p.steps.length > 3 ? `${p.steps.slice(0, 3).join(', ')} and ${p.steps.length - 3} more` : p.steps.join(', ');
  const count = p.damaged ? `an index that does not read (${p.damaged.split('\n')[0]})` : p.packages === undefined ? 'no index yet' : `${p.packages} package${p.packages === 1 ? '' : 's'}`;
  return `  --root ${p.choice}  ${describe(p)}: ${count}${steps ? ` (steps ${steps})` : ''}`;
}

/** The package folder of the run in `workDir` (its journal, its recipe with its frozen parameters) that `choice` names. */
export async function runPackageFolder(workDir: string, deps: EngineDeps, choice?: string): Promise<{ chosen: RunPkgdir; note: string }> {
  const work = resolve(workDir);
  const plan = await planFromJournal(requireRun(work), work, {}, deps);
  return choosePkgdir(await runPkgdirs(plan), work, choice);
}
