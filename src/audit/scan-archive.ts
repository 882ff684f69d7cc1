import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errnoCode } from '../util/errors.js';
import { ByteStream } from './byte-stream.js';
import { classify, HEAD_BYTES, type BinaryKind } from './classify.js';
import { decompress, isCompression, sniffContainer } from './containers.js';
import type { ArchiveMember, UnreadableMember } from './members.js';
import { squashfsMembers } from './squashfs-members.js';
import { tarMembers, type TarHead } from './tar-members.js';
import { MissingToolError } from './tool-failure.js';
import { zipMembers } from './zip-members.js';

/** Joins the path of a member inside nested archives: `outer.tar.gz!dir/inner.tar!bin/tool`. */
const NESTING_SEPARATOR = '!';

export interface BinaryFinding {
  /** The scanned file's name (a distfile name, or the path given). */
  archive: string;
  /** Path of the member inside the archive; nested archives joined with `!`. */
  member: string;
  kind: BinaryKind;
  /** What the header says, plus the compression it was found under, e.g. `ELF 64-bit ... (in xz)`. */
  detail: string;
  /** Size of the member in bytes (after decompression when it was compressed on its own). */
  size: number;
}

/** Content the scanner could not look into, and why; an audit cannot vouch for it. */
export interface UnscannedMember {
  archive: string;
  member: string;
  reason: string;
}

export interface ScanResult {
  archive: string;
  /** The outer format, e.g. `tar+xz`, `zip`, `squashfs`, or `file` for a lone non-archive file. */
  format: string;
  /** Regular files looked at, nested members included. */
  members: number;
  findings: BinaryFinding[];
  unscanned: UnscannedMember[];
}

export interface ScanOptions {
  /** Name reported for the archive; defaults to the file's base name. */
  name?: string;
  /** How many levels of archives inside the file are opened (default 3). */
  maxDepth?: number;
  /** Where nested zip and squashfs members are spooled (they need random access); default os.tmpdir(). */
  tmpDir?: string;
}

const DEFAULT_MAX_DEPTH = 3;
/** gzip inside xz inside bzip2 is already odd; beyond this a member is reported, not unwound. */
const MAX_COMPRESSION_LAYERS = 3;

/** A scan error in the outer file itself (as opposed to inside a nested member). */
export class ArchiveError extends Error {
  constructor(
    readonly archive: string,
    message: string,
    /** `unreadable`: the file cannot be opened; `missing-tool`: a host tool (xz, unsquashfs, ...) is missing. */
    readonly reason: 'malformed' | 'unreadable' | 'missing-tool' = 'malformed',
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

interface ScanState {
  archive: string;
  maxDepth: number;
  tmpDir: string;
  result: ScanResult;
}

function memberName(path: string[]): string {
  return path.join(NESTING_SEPARATOR);
}

/** The archive format a file name promises, if any. */
function promisedFormat(name: string): 'tar' | 'zip' | 'squashfs' | undefined {
  if (/\.(tar(\.\w+)?|tgz|tbz2?|txz|tzst)$/i.test(name)) return 'tar';
  if (/\.(zip|jar)$/i.test(name)) return 'zip';
  if (/\.(sqfs|squashfs)$/i.test(name)) return 'squashfs';
  return undefined;
}

/**
 * Scans a file for prebuilt executables and objects, member by member and streaming: tar (plain,
 * gzip, bzip2, xz, zstd), zip and squashfs, nested archives up to `maxDepth` levels. Only the
 * first bytes of each member are classified; the rest is read and discarded. A file that is not
 * an archive is classified as a single member. Throws ArchiveError when the file's own archive
 * structure is broken or its name promises an archive it is not; problems inside nested members
 * become `unscanned` entries instead, since source trees ship deliberately broken test archives.
 */
export async function scanArchive(path: string, options: ScanOptions = {}): Promise<ScanResult> {
  const archive = options.name ?? basename(path);
  const state: ScanState = {
    archive,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    tmpDir: options.tmpDir ?? tmpdir(),
    result: { archive, format: 'file', members: 0, findings: [], unscanned: [] },
  };
  const head = Buffer.alloc(512);
  let headLength: number;
  try {
    const handle = await open(path, 'r');
    try {
      headLength = (await handle.read(head, 0, 512, 0)).bytesRead;
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new ArchiveError(archive, `cannot read it (${errnoCode(error) ?? (error as Error).message})`, 'unreadable');
  }
  const outer = sniffContainer(head.subarray(0, headLength));
  try {
    if (outer === 'zip' || outer === 'squashfs') {
      const promised = promisedFormat(path);
      if (promised !== undefined && promised !== outer) throw new Error(`not a ${promised} archive although its name says so: found ${outer}`);
      state.result.format = outer;
      await scanMembers(outer === 'zip' ? zipMembers(path) : squashfsMembers(path, state.tmpDir), [], state);
    } else {
      // A compressed file is read by its decompressor directly, not copied through here.
      const compression = isCompression(outer) ? outer : undefined;
      const body = new ByteStream(compression ? decompress(compression, { file: path }) : createReadStream(path, { highWaterMark: 1 << 18 }));
      const promised = promisedFormat(path);
      const format = await scanStream(body, [], state, compression ? [compression] : [], basename(path));
      state.result.format = format;
      if (promised !== undefined && format.split('+')[0] !== promised) {
        throw new Error(`not a ${promised} archive although its name says so: found ${format}, starting with ${describeHead(head.subarray(0, headLength))}`);
      }
    }
  } catch (error) {
    if (error instanceof ArchiveError) throw error;
    throw new ArchiveError(archive, (error as Error).message, error instanceof MissingToolError ? 'missing-tool' : 'malformed');
  }
  return state.result;
}

function describeHead(head: Buffer): string {
  if (head.length === 0) return 'nothing: it is empty';
  return `bytes ${head.subarray(0, 8).toString('hex').replace(/(..)/g, '$1 ').trim()}`;
}

async function scanMembers(
  members: AsyncIterable<ArchiveMember | UnreadableMember>,
  path: string[],
  state: ScanState,
): Promise<void> {
  for await (const member of members) {
    const inner = [...path, member.path];
    if ('unreadable' in member) {
      state.result.unscanned.push({ archive: state.archive, member: memberName(inner), reason: member.unreadable });
      continue;
    }
    state.result.members++;
    await scanNested(member.body, inner, state, member.size);
  }
}

/**
 * A member's own trouble (a corrupt nested archive, a missing decompressor) is recorded and the
 * scan goes on; trouble in the enclosing stream is rethrown, since nothing after it can be read.
 */
async function scanNested(body: ByteStream, path: string[], state: ScanState, size: number): Promise<void> {
  try {
    await scanStream(body, path, state, [], undefined, size);
  } catch (error) {
    if (body.error) throw body.error;
    state.result.unscanned.push({ archive: state.archive, member: memberName(path), reason: (error as Error).message });
    await body.drain();
  }
}

/** Scans one stream; returns the format it turned out to be (`tar+gzip`, `file`, ...). */
async function scanStream(
  body: ByteStream,
  path: string[],
  state: ScanState,
  layers: string[],
  topName?: string,
  size?: number,
): Promise<string> {
  const head = await body.peek(HEAD_BYTES);
  const container = sniffContainer(head);
  const nested = path.length > 0;
  const format = (kind: string) => [kind, ...[...layers].reverse()].join('+');
  if (container !== null && nested && path.length > state.maxDepth) {
    state.result.unscanned.push({
      archive: state.archive,
      member: memberName(path),
      reason: `${container} nested deeper than --max-depth ${state.maxDepth}`,
    });
    await body.drain();
    return format(container);
  }
  if (isCompression(container)) {
    if (layers.length >= MAX_COMPRESSION_LAYERS) {
      state.result.unscanned.push({ archive: state.archive, member: memberName(path), reason: `more than ${MAX_COMPRESSION_LAYERS} layers of compression` });
      await body.drain();
      return format(container);
    }
    const inner = new ByteStream(decompress(container, body));
    const innerFormat = await scanStream(inner, path, state, [...layers, container], topName, undefined);
    await body.drain();
    return innerFormat;
  }
  if (container === 'tar') {
    await scanMembers(tarMembers(body, { head: { bytes: HEAD_BYTES, wantsRest: (member) => lookAtTarMember(member, path, state) } }), path, state);
    return format('tar');
  }
  if (container === 'zip' || container === 'squashfs') {
    // Top-level zip and squashfs files are opened by path in scanArchive; here they are members.
    await withSpooledCopy(body, state.tmpDir, async (file) => {
      await scanMembers(container === 'zip' ? zipMembers(file) : squashfsMembers(file, state.tmpDir), path, state);
    });
    return format(container);
  }
  const length = await body.drain();
  classifyFile(head, size, length, nested ? memberName(path) : (topName ?? state.archive), layers, state);
  return format('file');
}

/**
 * Records a finding when a file's first bytes say it is prebuilt; `declared` is the size its
 * archive gave (which rules out headers pointing past it), `length` what it turned out to hold.
 */
function classifyFile(head: Buffer, declared: number | undefined, length: number, member: string, layers: string[], state: ScanState): void {
  const found = classify(head, declared);
  if (!found) return;
  state.result.findings.push({
    archive: state.archive,
    member,
    kind: found.kind,
    detail: layers.length > 0 ? `${found.detail} (in ${[...layers].reverse().join(' in ')})` : found.detail,
    size: length,
  });
}

/**
 * A tar member's first look (tarMembers' `wantsRest`): a regular file that is no container is
 * classified from its head right here, and node-tar skips the rest of it, which is most members
 * of a source tarball; a container is asked for whole and scanned as a nested stream. Other
 * member types (directories, links, devices) carry no bytes to look at.
 */
function lookAtTarMember(member: TarHead, path: string[], state: ScanState): boolean {
  if (member.type !== 'File' && member.type !== 'OldFile' && member.type !== 'ContiguousFile') return false;
  if (sniffContainer(member.head) !== null) return true;
  state.result.members++;
  classifyFile(member.head, member.size, member.size, memberName([...path, member.path]), [], state);
  return false;
}

/** Formats that need random access get a temporary copy, removed afterwards (we made it). */
async function withSpooledCopy<T>(body: ByteStream, tmpDir: string, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpDir, 'bootstrap-audit-'));
  try {
    const file = join(dir, 'member');
    await pipeline(Readable.from(body), createWriteStream(file, { highWaterMark: 1 << 20 }));
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
