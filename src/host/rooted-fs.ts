import { lstat, mkdir, readlink, rename, open, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { removeStaleTemps, tempName } from '../util/temp-name.js';

/**
 * The host writes into a root as if it were chrooted there: a symbolic link inside the root,
 * even an absolute one such as `etc/portage -> /etc/portage`, resolves inside the root and can
 * never lead the host to its own files. Paths are resolved component by component with lstat.
 */

const MAX_LINKS = 40; // as the kernel's path walk

/**
 * Host path of `pathInRoot` as seen from inside `rootPath`. Components that do not exist yet
 * are kept as they are, so the result is also where a new file would go.
 */
export async function resolveInRoot(rootPath: string, pathInRoot: string): Promise<string> {
  const pending = splitPath(pathInRoot);
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop(); // `..` at the root stays at the root, as in a chroot
      continue;
    }
    const candidate = join(rootPath, ...resolved, part);
    const info = await lstat(candidate).catch((error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    });
    if (info?.isSymbolicLink()) {
      if (++links > MAX_LINKS) {
        throw new BootstrapError('ELOOP', `too many symbolic links resolving ${pathInRoot} inside ${rootPath}`);
      }
      const target = await readlink(candidate);
      if (target.startsWith('/')) resolved.length = 0;
      pending.unshift(...splitPath(target));
      continue;
    }
    resolved.push(part);
  }
  return join(rootPath, ...resolved);
}

/** `mkdir -p` inside a root; returns the host path of the directory. */
export async function mkdirInRoot(rootPath: string, pathInRoot: string, mode = 0o755): Promise<string> {
  const parts = splitPath(pathInRoot);
  let hostPath = rootPath;
  for (let i = 1; i <= parts.length; i++) {
    hostPath = await resolveInRoot(rootPath, parts.slice(0, i).join('/'));
    try {
      await mkdir(hostPath, { mode });
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        // A link to a directory that does not exist yet: create where it points, as `mkdir -p` would.
        await mkdirInRoot(rootPath, dirname(relative(rootPath, hostPath)), mode);
        await mkdir(hostPath, { mode });
        continue;
      }
      if (errnoCode(error) !== 'EEXIST') throw error;
      if (!(await lstat(hostPath)).isDirectory()) {
        throw new BootstrapError('ENOTDIR', `${join(rootPath, pathInRoot)} cannot be created: ${hostPath} is not a directory`);
      }
    }
  }
  return hostPath;
}

/**
 * Writes a file inside a root: parents created as needed, data written to a temporary name in
 * the same directory (src/util/temp-name.ts) and renamed over the target, so no half-written
 * file is ever visible under the target's name. What a crash leaves under the temporary name is
 * removed by removeStaleTempsInRoot and never packed (src/stage/pack-stage.ts).
 */
export async function writeFileInRoot(
  rootPath: string,
  pathInRoot: string,
  data: string | Buffer,
  options: { mode?: number } = {},
): Promise<string> {
  // Resolve first (a last component that is a link is written through, as in a chroot), then
  // create the parents of where it really lands.
  const target = await resolveInRoot(rootPath, pathInRoot);
  await mkdirInRoot(rootPath, dirname(relative(rootPath, target)));
  const temp = tempName(target);
  const mode = options.mode ?? 0o644;
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask must not decide a recipe's mode
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(temp, target);
  return target;
}

/**
 * Removes what killed writers left under temporary names in the directories the files at
 * `pathsInRoot` would be written to, made for those files (resolved as writeFileInRoot does); returns the host paths
 * removed. A step that writes into a root calls this when it starts, so a partial file of an
 * earlier, killed attempt does not stay in the root.
 */
export async function removeStaleTempsInRoot(rootPath: string, pathsInRoot: readonly string[]): Promise<string[]> {
  // Only temporary files made for these very files: another program's look-alike stays.
  const targets = new Map<string, string[]>();
  for (const path of pathsInRoot) {
    const host = await resolveInRoot(rootPath, path);
    targets.set(dirname(host), [...(targets.get(dirname(host)) ?? []), basename(host)]);
  }
  const removed: string[] = [];
  for (const [dir, names] of [...targets].sort(([a], [b]) => a.localeCompare(b))) removed.push(...(await removeStaleTemps(dir, names)));
  return removed;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((part) => part !== '');
}
