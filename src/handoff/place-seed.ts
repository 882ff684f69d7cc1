import { copyFile, link, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { hashFile } from './digests-file.js';
import type { SeedName } from './names.js';
import { tempName } from '../util/temp-name.js';

/** Files Catalyst skips when it globs `<source_subpath>.*` for the seed. */
const CATALYST_IGNORED_SUFFIXES = ['.CONTENTS', '.CONTENTS.gz', '.DIGESTS', '.sha256'];

/**
 * Refuses a builds folder where Catalyst would not find exactly our seed: a file named
 * exactly like `source_subpath` is taken instead of ours, and any other `<stem>.*` (an `.asc`,
 * another compression, a visible temporary file left by an older version) makes Catalyst stop with "Ambiguous Filename".
 */
export async function checkSeedSlot(buildsDir: string, seed: SeedName, relType: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(buildsDir);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return;
    throw error;
  }
  if (names.includes(seed.stem)) {
    throw new BootstrapError('EHANDOFF_AMBIGUOUS_SEED', `${join(buildsDir, seed.stem)} exists: Catalyst would take it as the seed ${relType}/${seed.stem} instead of ${seed.fileName}`, {
      hint: 'Move that file out of the builds folder, or rename your seed.',
    });
  }
  const clashing = names.filter(
    (n) => n.startsWith(`${seed.stem}.`) && n !== seed.fileName && !CATALYST_IGNORED_SUFFIXES.some((s) => n.endsWith(s)),
  );
  if (clashing.length > 0) {
    throw new BootstrapError('EHANDOFF_AMBIGUOUS_SEED', `${buildsDir} already holds ${clashing.join(', ')} beside the seed name ${seed.fileName}: Catalyst globs ${seed.stem}.* and stops with "Ambiguous Filename" on more than one match`, {
      found: clashing.join(', '),
      hint: 'Move those files out of the builds folder (signatures such as .asc belong elsewhere; a .tmp-* file is left over from an interrupted hand-off of an older version and can be deleted), or rename your seed.',
    });
  }
}

/** `sourceSha512` (hex), when already verified, spares hashing a multi-gigabyte source again. */
async function sameContent(a: string, b: string, sourceSha512?: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([stat(a), stat(b)]);
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.size !== sb.size) return false;
  const [ha, hb] = await Promise.all([sourceSha512 ?? hashFile(a, ['SHA512']).then((h) => h.SHA512), hashFile(b, ['SHA512']).then((h) => h.SHA512)]);
  return ha === hb;
}

/**
 * Whether `source` must be written to `target`: no when an identical file is already there.
 * A different file there is refused unless `replace`. Checked for every file of a hand-off
 * before any is placed, so a refusal leaves the builds folder as it was.
 */
export async function needsPlacing(source: string, target: string, replace: boolean, sourceSha512?: string): Promise<boolean> {
  const present = await stat(target).then((s) => s, () => undefined);
  if (!present) return true;
  if (!present.isFile()) throw new BootstrapError('EHANDOFF_SEED_EXISTS', `${target} exists and is not a regular file`, { hint: 'Move it out of the builds folder.' });
  if (await sameContent(source, target, sourceSha512)) return false;
  if (!replace) {
    throw new BootstrapError('EHANDOFF_SEED_EXISTS', `${target} already exists with different content`, {
      hint: 'Pass --force to replace it (Catalyst\'s seedcache and autoresume then start over), or rename your seed.',
    });
  }
  return true;
}

/**
 * Puts `source` at `target`: a hard link when both are on one filesystem (no copy of a
 * multi-gigabyte seed), else a copy; either way under a temporary name first, then renamed.
 */
export async function placeFile(source: string, target: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true });
  const temp = tempName(target);
  try {
    try {
      await link(source, temp);
    } catch (error) {
      if (!['EXDEV', 'EPERM', 'EMLINK'].includes(errnoCode(error) ?? '')) throw error;
      await copyFile(source, temp);
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}
