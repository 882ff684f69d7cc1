import { access, mkdir, readdir, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { tempName } from '../util/temp-name.js';

export interface PendingFile {
  path: string;
  content: string | Buffer;
}

/**
 * Writes every file under a temporary name first and renames them into place only once all
 * were written, so a failure (disk full, permissions) leaves no file half-written and none of
 * the group replaced.
 */
export async function writeFilesAtomically(files: PendingFile[]): Promise<void> {
  const staged: Array<{ temp: string; path: string }> = [];
  try {
    for (const file of files) {
      await mkdir(dirname(file.path), { recursive: true });
      const temp = tempName(file.path);
      staged.push({ temp, path: file.path });
      await writeFile(temp, file.content, { flush: true });
    }
  } catch (error) {
    await Promise.all(staged.map((s) => unlink(s.temp).catch(() => undefined)));
    throw error;
  }
  for (const s of staged) await rename(s.temp, s.path);
}

/** Name of the file that marks a folder as ours, so that replacing it later is allowed. */
export const OWNED_MARKER = '.written-by-bootstrap-handoff';

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}

/**
 * Refuses a folder that holds files but not our marker: the hand-off rewrites what it wrote
 * before, never someone's own catalyst.conf or releng checkout.
 */
export async function checkOwnedFolder(dir: string): Promise<void> {
  const names = await readdir(dir).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  });
  if (names === undefined && (await exists(dir))) {
    throw new BootstrapError('EHANDOFF_NOT_OURS', `${dir} exists and is not a folder`, { hint: 'Move it away, or choose another --specs-dir.' });
  }
  if (names !== undefined && names.length > 0 && !names.includes(OWNED_MARKER)) {
    throw new BootstrapError('EHANDOFF_NOT_OURS', `${dir} holds files that bootstrap handoff did not write`, {
      hint: 'Choose an empty or new --specs-dir (the default is <storedir>/specs); the hand-off never overwrites files it did not write.',
    });
  }
}

export const OWNED_MARKER_TEXT = 'This folder is rewritten by `bootstrap handoff`.\n';

/**
 * Replaces the folder `dir` by one holding exactly `files` (paths relative to it): built beside
 * it under a temporary name, then swapped in. A folder we did not create is never replaced.
 */
export async function replaceOwnedFolder(dir: string, files: Map<string, string>): Promise<string[]> {
  await checkOwnedFolder(dir);
  const temp = tempName(dir);
  const written: string[] = [];
  try {
    for (const [relPath, text] of [...files, [OWNED_MARKER, OWNED_MARKER_TEXT] as const]) {
      const path = join(temp, relPath);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      written.push(join(dir, relPath));
    }
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    throw error;
  }
  if (await exists(dir)) {
    const old = tempName(dir);
    await rename(dir, old);
    await rename(temp, dir);
    await rm(old, { recursive: true, force: true });
  } else {
    await mkdir(dirname(dir), { recursive: true });
    await rename(temp, dir);
  }
  return written;
}
