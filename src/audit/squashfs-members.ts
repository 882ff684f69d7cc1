import { constants, createReadStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { ByteStream } from './byte-stream.js';
import { slice, type ArchiveMember } from './members.js';
import { MissingToolError, toolFailure } from './tool-failure.js';

const DATA_MARKER = '# START OF DATA - DO NOT MODIFY';

interface PseudoFile {
  path: string;
  length: number;
  offset: number;
}

/** Splits a pseudo-file definition line into the (unescaped) name and the remaining fields. */
function parseDefinition(line: string): { name: string; fields: string[] } {
  let i = 0;
  let escaped = false;
  for (; i < line.length && line[i] !== ' '; i++) {
    if (line[i] === '\\') {
      escaped = true;
      i++;
    }
  }
  // Slicing (not appending character by character) keeps 100 000 names from becoming ropes.
  const raw = line.slice(0, i);
  return { name: escaped ? raw.replace(/\\(.)/gs, '$1') : raw, fields: line.slice(i + 1).split(' ') };
}

/** unsquashfs before 4.5 has no -pf and answers with its usage text: a tool problem, not a bad image. */
function unsquashfsFailure(result: Parameters<typeof toolFailure>[1]): Error | undefined {
  const stderr = result.stderr instanceof Uint8Array ? Buffer.from(result.stderr).toString('utf8') : '';
  if (result.failed && stderr.startsWith('SYNTAX: unsquashfs')) {
    return new MissingToolError('unsquashfs', 'is too old to stream an image (-pf needs squashfs-tools 4.5 or later)');
  }
  return toolFailure('unsquashfs', result);
}

/** Opens and closes the write end until a still-blocked reader has seen end of file. */
async function releaseReader(fifo: string, isOpen: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 200 && !isOpen(); attempt++) {
    try {
      await (await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)).close();
      return;
    } catch {
      // ENXIO: the reader has not reached open() yet.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Reads a squashfs image member by member without extracting it: `unsquashfs -pf` writes a
 * pseudo-file description of the whole image, a list of definitions followed by the contents
 * of every regular file in one stream, which is read once, front to back. Memory holds the list
 * of regular files (names and offsets), not their contents.
 */
export async function* squashfsMembers(imagePath: string, tmpDir = tmpdir()): AsyncGenerator<ArchiveMember> {
  // unsquashfs 4.5 cannot write the pseudo file to "-" and cannot open /dev/stdout when that is
  // the socket node gives a child for stdio, so it writes into a FIFO we read from.
  const dir = await mkdtemp(join(tmpDir, 'bootstrap-audit-sqfs-'));
  const fifo = join(dir, 'pseudo');
  let child: ResultPromise<{ encoding: 'buffer'; reject: false }> | undefined;
  let finished = false;
  try {
    const made = await execa('mkfifo', ['-m', '600', fifo], { reject: false });
    const cannot = toolFailure('mkfifo', made);
    if (cannot) throw cannot;
    child = execa('unsquashfs', ['-no-progress', '-pf', fifo, imagePath], { encoding: 'buffer', reject: false });
    const spawned = child;
    // Opening a FIFO for reading blocks until the writer opens it; if unsquashfs fails before
    // that (bad image, missing tool), this open is released by opening the write end ourselves.
    const reader = createReadStream(fifo, { highWaterMark: 1 << 20 });
    let readerOpen = false;
    reader.once('open', () => (readerOpen = true));
    void spawned.then(() => releaseReader(fifo, () => readerOpen));
    const stream = new ByteStream(reader);
    const files: PseudoFile[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let sawMarker = false;
    let dataStart: Buffer | undefined;
    while (dataStart === undefined) {
      const chunk = await stream.read();
      if (chunk === null) {
        const result = await spawned;
        finished = true;
        throw unsquashfsFailure(result) ?? new Error('unsquashfs -pf ended before the start of the file data');
      }
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let newline: number;
      while ((newline = pending.indexOf(0x0a)) !== -1) {
        const line = pending.subarray(0, newline).toString('utf8');
        pending = pending.subarray(newline + 1);
        if (sawMarker) {
          // The marker is followed by one more "#" line; the file data starts right after it.
          dataStart = pending;
          break;
        }
        if (line === DATA_MARKER) {
          sawMarker = true;
          continue;
        }
        if (line.startsWith('#') || line === '') continue;
        const { name, fields } = parseDefinition(line);
        if (fields[0] === 'R') {
          files.push({ path: name, length: Number(fields[5]), offset: Number(fields[6]) });
        }
      }
    }
    stream.unread(dataStart);
    files.sort((a, b) => a.offset - b.offset);
    let position = 0;
    for (const file of files) {
      if (file.offset < position) continue;
      if (file.offset > position) {
        await slice(stream, file.offset - position).drain();
        position = file.offset;
      }
      const body = slice(stream, file.length);
      yield { path: file.path, size: file.length, body };
      await body.drain();
      position += file.length;
    }
    await stream.drain();
    const result = await spawned;
    finished = true;
    const failure = unsquashfsFailure(result);
    if (failure) throw failure;
  } finally {
    if (child && !finished) {
      child.kill();
      await child;
    }
    await rm(dir, { recursive: true, force: true });
  }
}
