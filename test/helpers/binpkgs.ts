import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A PKGDIR laid out as Portage 3.0.66 writes it (binpkg-multi-instance GPKG files, a Packages
 * index with PATH, SIZE, MD5, SHA1), written by the test; the real tier serves one real Portage
 * wrote (test/real/binhost.test.ts).
 */

const hex = (algorithm: string, bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');

/** One package's block of the index. */
export function indexBlock(cpv: string, path: string, bytes: Buffer, extra: Record<string, string> = {}): string {
  const fields = { BUILD_ID: '1', BUILD_TIME: '1796081024', CPV: cpv, MD5: hex('md5', bytes), PATH: path, SHA1: hex('sha1', bytes), SIZE: String(bytes.length), ...extra, MTIME: '1796081024', REPO: 'gentoo' };
  return `${Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n`;
}

/** Writes the packages and their index into `pkgdir` (made if missing); returns each package's PATH by CPV. */
export function writePkgdir(pkgdir: string, packages: Array<{ cpv: string; bytes: Buffer }>): Record<string, string> {
  let index = `ARCH: x86\nCHOST: i386-unknown-linux-musl\nPACKAGES: ${packages.length}\nTIMESTAMP: 1796081074\nVERSION: 0\n\n`;
  const files: Record<string, string> = {};
  for (const { cpv, bytes } of packages) {
    const [cat, pf] = cpv.split('/') as [string, string];
    const pn = pf.replace(/-[0-9].*$/, '');
    const path = `${cat}/${pn}/${pf}-1.gpkg.tar`;
    mkdirSync(join(pkgdir, cat, pn), { recursive: true });
    writeFileSync(join(pkgdir, path), bytes);
    files[cpv] = path;
    index += indexBlock(cpv, path, bytes);
  }
  writeFileSync(join(pkgdir, 'Packages'), index);
  return files;
}
