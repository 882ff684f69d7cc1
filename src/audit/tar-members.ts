import { ByteStream } from './byte-stream.js';
import { slice } from './members.js';

export interface TarMember {
  path: string;
  /** The entry type, named as node-tar names them: `File`, `Directory`, `SymbolicLink`, `Link`, ... */
  type: string;
  size: number;
  /** The member's bytes. Whatever the caller leaves unread is skipped before the next member. */
  body: ByteStream;
}

const BLOCK = 512;

const TYPES: Record<string, string> = {
  '0': 'File',
  '': 'OldFile',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
  '7': 'ContiguousFile',
  g: 'GlobalExtendedHeader',
  x: 'ExtendedHeader',
  A: 'SolarisACL',
  D: 'GNUDumpDir',
  I: 'Inode',
  K: 'NextFileHasLongLinkpath',
  L: 'NextFileHasLongPath',
  M: 'ContinuationFile',
  N: 'OldGnuLongPath',
  S: 'SparseFile',
  V: 'TapeVolumeHeader',
  X: 'OldExtendedHeader',
};

/**
 * Walks a tar stream member by member, in order: each header is parsed where it lies in the
 * stream's chunks, and a member's body is a slice of the stream, so what its reader leaves
 * unread is skipped chunk by chunk, never copied (the audit looks at the first KiB of each
 * member and no more). Handles ustar, GNU (long names, base-256 sizes) and pax (path, size)
 * headers. Throws on a header whose checksum is wrong and on an archive that ends inside a
 * member. Memory stays at a chunk or two however large the members are.
 */
export async function* tarMembers(input: AsyncIterable<Buffer>): AsyncGenerator<TarMember> {
  const owned = !(input instanceof ByteStream);
  const stream = input instanceof ByteStream ? input : new ByteStream(input);
  try {
    let longPath: string | undefined;
    let pax: Record<string, string> = {};
    let offset = 0;
    for (;;) {
      const header = stream.peekHeld(BLOCK) ?? (await stream.peek(BLOCK));
      if (header.length === 0) break; // no end-of-archive blocks: tolerated, as by tar(1)
      if (header.length < BLOCK) throw new Error(`truncated archive: it ends inside a header at byte ${offset}`);
      if (isZeroBlock(header)) break;
      const parsed = parseHeader(header, offset);
      if (!stream.skipHeld(BLOCK)) await stream.skip(BLOCK);
      offset += BLOCK;
      const size = pax.size !== undefined ? Number(pax.size) : parsed.size;
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (parsed.type === 'NextFileHasLongPath' || parsed.type === 'OldGnuLongPath' || parsed.type === 'ExtendedHeader' || parsed.type === 'GlobalExtendedHeader' || parsed.type === 'NextFileHasLongLinkpath') {
        const data = (await readMeta(stream, padded, parsed.path)).subarray(0, size);
        offset += padded;
        if (parsed.type === 'NextFileHasLongPath' || parsed.type === 'OldGnuLongPath') longPath = data.toString('utf8').replace(/\0.*$/s, '');
        else if (parsed.type === 'ExtendedHeader') pax = { ...pax, ...parsePax(data) };
        continue;
      }
      const path = pax.path ?? longPath ?? parsed.path;
      const type = parsed.type === 'File' || parsed.type === 'OldFile' ? (path.endsWith('/') ? 'Directory' : parsed.type) : parsed.type;
      longPath = undefined;
      pax = {};
      const body = slice(stream, size, path);
      yield { path, type, size, body };
      // What the reader left, then the padding to the next block.
      await body.drain();
      if (!stream.skipHeld(padded - size) && (await stream.skip(padded - size)) < padded - size) throw new Error(`truncated archive: it ends inside ${path}`);
      offset += padded;
    }
  } finally {
    // A stream of ours is let go (what follows the end-of-archive blocks is not read); a
    // ByteStream given is the caller's to drain.
    if (owned) await stream.release();
  }
}

/** Metadata (a long name, pax records) is small; more than 1 MiB of it is a broken archive. */
async function readMeta(stream: ByteStream, padded: number, what: string): Promise<Buffer> {
  if (padded > 1 << 20) throw new Error(`invalid tar header: ${padded} bytes of metadata for ${what}`);
  return Buffer.from(await stream.readExactly(padded, `the metadata of ${what}`));
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i += 8) if (block.readBigUInt64LE(i) !== 0n) return false;
  return true;
}

function parseHeader(h: Buffer, offset: number): { path: string; type: string; size: number } {
  const stored = parseOctal(h, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : h[i]!;
    unsigned += b;
    signed += b > 127 ? b - 256 : b;
  }
  if (stored !== unsigned && stored !== signed) throw new Error(`invalid tar header at byte ${offset}: its checksum is wrong (TAR_ENTRY_INVALID)`);
  const typeflag = text(h, 156, 1);
  const type = TYPES[typeflag] ?? 'Unsupported';
  let path = text(h, 0, 100);
  // POSIX ustar keeps the start of a long path in `prefix`; GNU tar uses those bytes otherwise.
  if (h.toString('latin1', 257, 263) === 'ustar\0') {
    const prefix = text(h, 345, 155);
    if (prefix) path = `${prefix}/${path}`;
  }
  return { path, type, size: parseSize(h, 124, offset) };
}

function text(h: Buffer, at: number, length: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end === -1 || end > at + length ? at + length : end);
}

function parseOctal(h: Buffer, at: number, length: number): number {
  const digits = h.toString('latin1', at, at + length).replace(/[\0 ]+$/, '').trim();
  return digits === '' ? 0 : parseInt(digits, 8);
}

/** Octal, or GNU's base-256 (first byte 0x80) for sizes past 8 GiB. */
function parseSize(h: Buffer, at: number, offset: number): number {
  if (h[at]! & 0x80) {
    if (h[at] !== 0x80) throw new Error(`invalid tar header at byte ${offset}: a negative size`);
    let size = 0;
    for (let i = at + 1; i < at + 12; i++) size = size * 256 + h[i]!;
    return size;
  }
  const size = parseOctal(h, at, 12);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid tar header at byte ${offset}: size ${h.toString('latin1', at, at + 12)}`);
  return size;
}

/** pax records: `LENGTH key=value\n`, one after another. */
function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number(data.toString('latin1', at, space));
    if (!Number.isInteger(length) || length <= 0) break;
    const record = data.toString('utf8', space + 1, at + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += length;
  }
  return out;
}
