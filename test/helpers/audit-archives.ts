import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Files for a test archive: path inside the archive → contents (or a host file to copy). */
export type TreeSpec = Record<string, string | Buffer | { copyOf: string }>;

/** Writes a tree under `dir` (created) and returns `dir`. */
export function writeTree(dir: string, tree: TreeSpec): string {
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(tree)) {
    const target = join(dir, path);
    mkdirSync(dirname(target), { recursive: true });
    if (typeof content === 'object' && !Buffer.isBuffer(content)) copyFileSync(content.copyOf, target);
    else writeFileSync(target, content);
  }
  return dir;
}

/**
 * Packs `tree` with GNU tar into `archive`; the compression follows the suffix (`-a`), so
 * `.tar.gz`, `.tar.bz2`, `.tar.xz`, `.tar.zst` and `.tar` all work. Returns `archive`.
 */
export function makeTarball(archive: string, tree: TreeSpec, topDir = 'pkg-1.0'): string {
  const staging = `${archive}.staging`;
  writeTree(join(staging, topDir), tree);
  execFileSync('tar', ['-caf', archive, '-C', staging, topDir]);
  execFileSync('rm', ['-rf', '--', staging]);
  return archive;
}

/** A minimal PE32+ header: "MZ", e_lfanew = 0x80, then "PE\0\0" and an x86-64 COFF header. */
export function peHeader(): Buffer {
  const b = Buffer.alloc(1024);
  b.write('MZ', 0, 'latin1');
  b.writeUInt32LE(0x80, 0x3c);
  b.write('PE\0\0', 0x80, 'latin1');
  b.writeUInt16LE(0x8664, 0x84);
  b.writeUInt16LE(0x0022, 0x80 + 22);
  b.writeUInt16LE(0x20b, 0x80 + 24);
  return b;
}

/** A small `ar` archive with one member, as `ar rc` writes it. */
export function arArchive(): Buffer {
  const data = Buffer.from('not really an object\n');
  const header = `${'foo.o/'.padEnd(16)}${'0'.padEnd(12)}${'0'.padEnd(6)}${'0'.padEnd(6)}${'644'.padEnd(8)}${String(data.length).padEnd(10)}\`\n`;
  return Buffer.concat([Buffer.from('!<arch>\n'), Buffer.from(header, 'latin1'), data, Buffer.from('\n')]);
}
