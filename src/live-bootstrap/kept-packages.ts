import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '../distfiles/hash.js';
import { base64DigestToHex } from '../distfiles/integrity.js';
import { placeFile } from '../distfiles/place-file.js';
import { PACKAGE_NAME } from './package-sums.js';

export interface KeptPackages {
  /** Package files now in the kept folder (those of earlier attempts included). */
  kept: string[];
  /** Files left behind, with why (not in SHA256SUMS.pkgs, or other bytes than it says). */
  dropped: Array<{ name: string; why: string }>;
}

/**
 * Keeps what an attempt of live-bootstrap built: every `<pkg>_<rev>.tar.bz2` in its
 * `external/repo` (and any preseeded one it had not used yet) whose sha256 is the one
 * `SHA256SUMS.pkgs` gives, linked into `keptDir`. The next attempt hands that folder to
 * rootfs.py's `--repo`, which installs those packages instead of building them again.
 */
export async function keepBuiltPackages(target: string, sums: ReadonlyMap<string, string>, keptDir: string): Promise<KeptPackages> {
  await mkdir(keptDir, { recursive: true });
  const dropped: KeptPackages['dropped'] = [];
  for (const folder of ['repo', 'repo-preseeded']) {
    const dir = join(target, 'external', folder);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.sort()) {
      if (!PACKAGE_NAME.test(name)) continue;
      const expected = sums.get(name);
      if (!expected) {
        dropped.push({ name, why: 'not in SHA256SUMS.pkgs' });
        continue;
      }
      const path = join(dir, name);
      const found = await sha256Hex(path);
      if (found !== expected) {
        dropped.push({ name, why: `sha256 ${found}, SHA256SUMS.pkgs says ${expected}` });
        continue;
      }
      if (await stat(join(keptDir, name)).catch(() => undefined)) continue;
      await placeFile(path, join(keptDir, name));
    }
  }
  const kept = (await readdir(keptDir)).filter((name) => PACKAGE_NAME.test(name)).sort();
  return { kept, dropped };
}

/** The sha256 of a file in hex, as SHA256SUMS.pkgs writes it. */
export async function sha256Hex(path: string): Promise<string> {
  const { digests } = await hashFile(path, ['sha256']);
  return base64DigestToHex(digests.sha256!);
}
