import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { errnoCode } from '../util/errors.js';

/**
 * Steps run in a root and write into it as root: a root that is the host's own `/` or one of
 * its system directories would let a recipe, or a `--target` typed wrong, rewrite the host.
 */

const SYSTEM_DIRS = ['/bin', '/boot', '/dev', '/etc', '/lib', '/lib32', '/lib64', '/libx32', '/proc', '/root', '/run', '/sbin', '/sys', '/usr', '/var'];
/** Every directory directly inside these is a system directory too (/usr/bin, /var/lib, …). */
const SYSTEM_PARENTS = ['/usr', '/var'];

/**
 * The host path a path leads to: symbolic links followed as the kernel would, and a path that
 * does not exist yet resolved through its nearest existing parent (a dangling link through its
 * target), so that what a step will create is judged where it will land.
 */
export function resolveHostPath(path: string, hops = 0): string {
  // Not path.resolve first: it folds `link/..` by name, where the kernel goes up from the link's target.
  const absolute = path.startsWith('/') ? path : `${process.cwd()}/${path}`;
  try {
    return realpathSync.native(absolute);
  } catch (error) {
    // EACCES: `bootstrap plan` without root in a folder only root may enter; a run, as root,
    // sees through it and is judged again.
    const code = errnoCode(error);
    if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EACCES') throw error;
  }
  const trimmed = absolute.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  if (hops > 40) return resolve(absolute); // a loop of links: nothing can be created through it
  const cut = trimmed.lastIndexOf('/');
  const parent = resolveHostPath(trimmed.slice(0, cut) || '/', hops);
  const here = join(parent, trimmed.slice(cut + 1));
  const link = visible(() => lstatSync(here, { throwIfNoEntry: false }));
  if (link?.isSymbolicLink()) {
    const target = readlinkSync(here);
    return resolveHostPath(target.startsWith('/') ? target : `${parent}/${target}`, hops + 1);
  }
  return here;
}

/** What a stat says, or undefined where this user may not look (EACCES). */
function visible<T>(stat: () => T | undefined): T | undefined {
  try {
    return stat();
  } catch (error) {
    if (errnoCode(error) === 'EACCES') return undefined;
    throw error;
  }
}

/** Why a resolved path may not be a root, or null when it may. */
export function systemDirectory(resolved: string): string | null {
  if (resolved === '/') return "the host's own root directory";
  if (SYSTEM_DIRS.includes(resolved) || SYSTEM_PARENTS.includes(dirname(resolved))) return `the host's system directory ${resolved}`;
  // The same directory by another path the name does not show, e.g. a bind mount of / or /usr.
  const here = visible(() => statSync(resolved, { throwIfNoEntry: false }));
  if (!here?.isDirectory()) return null;
  for (const dir of systemCandidates()) {
    const there = visible(() => statSync(dir, { throwIfNoEntry: false }));
    if (there && there.dev === here.dev && there.ino === here.ino) {
      return dir === '/' ? "the host's own root directory (the same directory, e.g. a bind mount of /)" : `the host's system directory ${dir} (the same directory, e.g. a bind mount)`;
    }
  }
  return null;
}

function systemCandidates(): string[] {
  const dirs = ['/', ...SYSTEM_DIRS];
  for (const parent of SYSTEM_PARENTS) {
    try {
      dirs.push(...readdirSync(parent).map((name) => join(parent, name)));
    } catch {
      // no /usr or /var on this host: nothing there to guard
    }
  }
  return dirs;
}
