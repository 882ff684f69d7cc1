import { randomBytes } from 'node:crypto';
import { copyFile, link, lstat, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errnoCode } from '../util/errors.js';

/**
 * Hard link (or copy, across file systems) under a temporary name beside the target, then
 * rename: no one ever sees a partly copied file under the target's name. Already the same
 * inode: nothing to do.
 */
export async function placeFile(source: string, target: string): Promise<void> {
  const [from, to] = await Promise.all([lstat(source), lstat(target).catch(() => undefined)]);
  if (to && to.ino === from.ino && to.dev === from.dev) return;
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await link(source, temp).catch(async (error: unknown) => {
      if (errnoCode(error) !== 'EXDEV') throw error;
      await copyFile(source, temp);
    });
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
