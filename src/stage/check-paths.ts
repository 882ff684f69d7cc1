import { realpath, stat } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

export interface PackPaths {
  /** The tree, symbolic links resolved. */
  root: string;
  /** The tarball, in its directory with symbolic links resolved. */
  out: string;
}

/**
 * Checks what `pack` reads and writes before anything runs: the root is a directory and not the
 * host's `/`, the output's directory exists, and the output is not inside the tree (tar would
 * read its own, growing, output).
 */
export async function checkPackPaths(rootArg: string, outArg: string, fields = { root: '--root', out: '--out' }): Promise<PackPaths> {
  const rootInfo = await stat(rootArg).catch((error: unknown) => {
    throw new BootstrapError('EPACK_ROOT', `${fields.root} ${rootArg}: ${errnoCode(error) === 'ENOENT' ? 'no such directory' : String((error as Error).message)}`, {
      hint: 'Give the directory holding the root filesystem to pack.',
    });
  });
  if (!rootInfo.isDirectory()) {
    throw new BootstrapError('EPACK_ROOT', `${fields.root} ${rootArg} is not a directory`, { hint: 'Give the directory holding the root filesystem to pack.' });
  }
  const root = await realpath(rootArg);
  if (root === '/') {
    throw new BootstrapError('EPACK_ROOT', `${fields.root} ${rootArg} is the host's own root`, {
      hint: 'Pack the bootstrapped tree (e.g. the live-bootstrap target or its /gentoo), not the running system.',
    });
  }
  const name = basename(outArg);
  if (outArg.endsWith('/') || name === '' || name === '.' || name === '..') {
    throw new BootstrapError('EPACK_OUT', `${fields.out} ${outArg} names a directory, not a file`, { hint: 'Give the tarball\'s file name, e.g. /var/tmp/stage3-bootstrap.tar.xz.' });
  }
  if (/[\n\r\\]/.test(name)) {
    throw new BootstrapError('EPACK_OUT', `${fields.out} ${JSON.stringify(outArg)}: the file name holds a line break or backslash, which DIGESTS lines cannot carry`, {
      hint: 'Choose a plain file name.',
    });
  }
  const dirArg = dirname(resolve(outArg));
  const dirInfo = await stat(dirArg).catch(() => undefined);
  if (!dirInfo?.isDirectory()) {
    throw new BootstrapError('EPACK_OUT', `${fields.out} ${outArg}: the directory ${dirArg} does not exist`, { hint: `Create it first (mkdir -p ${dirArg}).` });
  }
  const dir = await realpath(dirArg);
  const rel = relative(root, dir);
  if (rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..')) {
    throw new BootstrapError('EPACK_OUT', `${fields.out} ${outArg} is inside the tree being packed (${root})`, {
      hint: 'Write the tarball outside the root, e.g. under /var/tmp on the host.',
    });
  }
  const out = resolve(dir, name);
  const outInfo = await stat(out).catch(() => undefined);
  if (outInfo?.isDirectory()) {
    throw new BootstrapError('EPACK_OUT', `${fields.out} ${outArg} is an existing directory`, { hint: 'Give the tarball\'s file name inside it.' });
  }
  return { root, out };
}
