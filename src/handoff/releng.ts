import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { RELENG_COMMIT } from './guide-edits.js';

/** Where the pinned releng snapshot comes from (distfiles.lock entry of this name). */
export const RELENG_SNAPSHOT = `releng-${RELENG_COMMIT}.tar.bz2`;
export const RELENG_SNAPSHOT_URL = `https://gitweb.gentoo.org/proj/releng.git/snapshot/${RELENG_SNAPSHOT}`;

const HINT =
  `Pass --releng with the pinned snapshot ${RELENG_SNAPSHOT} (distfiles.lock; \`bootstrap lock fetch\` or ${RELENG_SNAPSHOT_URL}), ` +
  'or a checkout: git clone https://gitweb.gentoo.org/proj/releng.git';

async function readTree(root: string, dir: string, into: Map<string, string>): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await readTree(root, path, into);
    else if (entry.isFile()) into.set(relative(root, path), await readFile(path, 'utf8'));
    else if (entry.isSymbolicLink() && (await stat(path).catch(() => undefined))?.isFile()) into.set(relative(root, path), await readFile(path, 'utf8'));
  }
}

/** The releng top folder inside `dir`: `dir` itself, or its one subfolder (a snapshot's `releng-<commit>/`). */
async function topFolder(dir: string): Promise<string | undefined> {
  const names = await readdir(dir);
  if (names.includes('releases')) return dir;
  if (names.length === 1 && (await stat(join(dir, names[0]!))).isDirectory() && (await readdir(join(dir, names[0]!))).includes('releases')) {
    return join(dir, names[0]!);
  }
  return undefined;
}

/**
 * The `releases/` files of a releng checkout or snapshot tarball (`.tar.bz2`, `.tar.gz`,
 * `.tar.xz`, unpacked by the host's tar), by path relative to releng's top folder. The source
 * is only read.
 */
export async function readReleng(source: string): Promise<Map<string, string>> {
  const info = await stat(source).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') throw new BootstrapError('EHANDOFF_RELENG', `releng ${source} does not exist`, { hint: HINT });
    throw error;
  });
  let temp: string | undefined;
  try {
    let dir = source;
    if (info.isFile()) {
      temp = await mkdtemp(join(tmpdir(), 'bootstrap-releng-'));
      // Loaded here: the handoff step's plan imports this module, and only a handoff unpacks.
      const { execa } = await import('execa');
      const untar = await execa('tar', ['-xf', source, '-C', temp, '--no-same-owner', '--no-same-permissions'], { reject: false, env: { LC_ALL: 'C' } });
      if (untar.exitCode !== 0) {
        throw new BootstrapError('EHANDOFF_RELENG', `releng ${source} is not a tar archive tar can unpack: ${String(untar.stderr).trim()}`, { hint: HINT });
      }
      dir = temp;
    }
    const top = await topFolder(dir);
    if (top === undefined) {
      throw new BootstrapError('EHANDOFF_RELENG', `releng ${source} has no releases/ folder: it is not Gentoo's releng repository`, { hint: HINT });
    }
    const files = new Map<string, string>();
    await readTree(top, join(top, 'releases'), files);
    return files;
  } finally {
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}
