import { spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { findTool } from '../host/tools.js';
import { BootstrapError } from '../util/errors.js';
import type { Compression, SeedName } from './names.js';

const MAGIC: Record<Exclude<Compression, 'none'>, Buffer> = {
  xz: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
  bzip2: Buffer.from('BZh'),
  gzip: Buffer.from([0x1f, 0x8b]),
};

const DECOMPRESSOR: Record<Exclude<Compression, 'none'>, string> = { xz: 'xz', zstd: 'zstd', bzip2: 'bzip2', gzip: 'gzip' };

/** POSIX and GNU tar headers both carry `ustar` at offset 257 of the first block. */
function isTarHeader(block: Buffer): boolean {
  return block.length >= 262 && block.subarray(257, 262).toString('latin1') === 'ustar';
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The first `length` decompressed bytes; the decompressor is stopped once they are in. */
function decompressedHead(path: string, program: string, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['-dc', '--', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    const chunks: Buffer[] = [];
    let size = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= length) child.kill();
    });
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(chunks).subarray(0, length)));
  });
}

/**
 * Refuses a seed whose bytes do not match its suffix, or that does not decompress to a tar
 * archive: Catalyst trusts the suffix and would fail hours later, deep inside a chroot.
 */
export async function checkSeedIsTar(path: string, name: SeedName): Promise<void> {
  const head = await readHead(path, 512);
  const notTar = (found: string) =>
    new BootstrapError('EHANDOFF_SEED_NOT_TAR', `${path} is not a ${name.suffix} archive: ${found}`, {
      hint: 'Pass the seed tarball made by `bootstrap pack` (or any stage3 tarball), not its DIGESTS or CONTENTS.',
    });
  if (name.compression === 'none') {
    if (!isTarHeader(head)) throw notTar('no tar header in its first block');
    return;
  }
  const magic = MAGIC[name.compression];
  if (!head.subarray(0, magic.length).equals(magic)) {
    const other = (Object.keys(MAGIC) as Array<keyof typeof MAGIC>).find((c) => head.subarray(0, MAGIC[c].length).equals(MAGIC[c]));
    throw notTar(other ? `its bytes are ${other}-compressed` : `it does not start with the ${name.compression} signature`);
  }
  const block = await decompressedHead(path, findTool(DECOMPRESSOR[name.compression]), 512);
  if (!isTarHeader(block)) throw notTar(`it is ${name.compression} data, but not a tar archive inside`);
}
