import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { execa } from 'execa';
import { toolFailure } from './tool-failure.js';

export type Compression = 'gzip' | 'bzip2' | 'xz' | 'zstd';
export type ContainerKind = Compression | 'tar' | 'zip' | 'squashfs';

/** True when a 512-byte block is a tar header: its checksum field matches its bytes. */
export function isTarHeader(block: Buffer): boolean {
  if (block.length < 512) return false;
  const field = block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim();
  if (!/^[0-7]+$/.test(field)) return false;
  const recorded = parseInt(field, 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === recorded && block[0] !== 0;
}

/** Which container (if any) a stream is, from its first bytes (512 suffice). */
export function sniffContainer(head: Buffer): ContainerKind | null {
  const at = (bytes: number[], offset = 0) =>
    head.length >= offset + bytes.length && bytes.every((b, i) => head[offset + i] === b);
  if (at([0x1f, 0x8b])) return 'gzip';
  if (at([0x42, 0x5a, 0x68]) && head[3]! >= 0x31 && head[3]! <= 0x39) return 'bzip2';
  if (at([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])) return 'xz';
  if (at([0x28, 0xb5, 0x2f, 0xfd])) return 'zstd';
  if (at([0x50, 0x4b, 0x03, 0x04]) || at([0x50, 0x4b, 0x05, 0x06])) return 'zip';
  if (at([0x68, 0x73, 0x71, 0x73])) return 'squashfs';
  if (isTarHeader(head.subarray(0, 512))) return 'tar';
  return null;
}

export function isCompression(kind: ContainerKind | null): kind is Compression {
  return kind === 'gzip' || kind === 'bzip2' || kind === 'xz' || kind === 'zstd';
}

/**
 * xz 5.4 decodes with one thread unless told otherwise. A file written in blocks (by `xz -T0`,
 * pixz as Gentoo's stage3s are, `bootstrap pack`) decodes on two threads here, each holding
 * about a block in memory (some 60 MB for bootstrap pack's 24 MiB blocks); more would cost more
 * memory and gain little, since reading the tar stream then takes as long. A file of one
 * block, as upstream tarballs are, decodes on one thread either way.
 */
const DECODE_ARGS: Record<Exclude<Compression, 'gzip'>, string[]> = {
  bzip2: ['-dc'],
  xz: ['-dc', `-T${Math.min(2, availableParallelism())}`],
  zstd: ['-dc'],
};

/**
 * Decompresses a byte stream, or a file (`{ file }`: a host tool then reads it itself, named on
 * its command line, which spares the copy through this process). gzip uses node's zlib; node has
 * no bzip2, xz or zstd decoder, so those go through the host's tool (`bzip2 -dc`, ...), which
 * also keeps memory bounded. Corrupt input makes the iteration throw with the decoder's own message.
 */
export async function* decompress(kind: Compression, input: AsyncIterable<Buffer> | { file: string }): AsyncGenerator<Buffer> {
  const fromFile = 'file' in input ? input.file : undefined;
  if (kind === 'gzip') {
    const source = fromFile !== undefined ? createReadStream(fromFile, { highWaterMark: 1 << 18 }) : Readable.from(input as AsyncIterable<Buffer>, { objectMode: false });
    const gunzip = pipeline(source, createGunzip({ chunkSize: 1 << 16 }), () => {});
    try {
      for await (const chunk of gunzip) yield chunk as Buffer;
    } catch (error) {
      throw new Error(`gzip: ${(error as Error).message}`);
    } finally {
      gunzip.destroy();
    }
    return;
  }
  // bzip2, xz and zstd are each named for the tool that decodes them.
  // Not execa's `stdin: { file }`, which streams the file through this process into a socket.
  const child = execa(kind, fromFile !== undefined ? [...DECODE_ARGS[kind], '--', fromFile] : DECODE_ARGS[kind], {
    stdin: fromFile !== undefined ? 'ignore' : 'pipe',
    buffer: { stdout: false, stderr: true },
    encoding: 'buffer',
    reject: false,
    stripFinalNewline: true,
  });
  // The tool may stop reading early (corrupt input): the write error is then only a symptom,
  // and the tool's exit status below says what went wrong.
  const feeder = fromFile !== undefined ? undefined : Readable.from(input as AsyncIterable<Buffer>, { objectMode: false });
  if (feeder) pipeline(feeder, child.stdin!, () => {});
  let finished = false;
  try {
    yield* coalesced(child.stdout! as AsyncIterable<Buffer>);
    const result = await child;
    finished = true;
    const failure = toolFailure(kind, result);
    if (failure) throw failure;
  } finally {
    if (!finished) {
      feeder?.destroy();
      child.kill();
      await child;
    }
  }
}

/**
 * The chunks of `source` joined into runs of at least `bytes`. A decoder writes 8 KiB at a time
 * (xz), and a pipe hands each write over as its own chunk: 23,000 for a 190 MB tar, each a
 * parser write, and a header split across two of them a copy. Joined into 256 KiB, the scan of
 * a one-block .tar.xz used 4.74 -> 4.51 s of CPU (median of 15, interleaved).
 */
async function* coalesced(source: AsyncIterable<Buffer>, bytes = 1 << 18): AsyncGenerator<Buffer> {
  let held: Buffer[] = [];
  let size = 0;
  for await (const chunk of source) {
    held.push(chunk);
    size += chunk.length;
    if (size >= bytes) {
      yield held.length === 1 ? held[0]! : Buffer.concat(held, size);
      held = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(held, size);
}
