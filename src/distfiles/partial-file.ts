import { type FileHandle, mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { BackgroundHash } from './background-hash.js';
import type { Digests, HashAlgorithm } from './integrity.js';

/** How bytes reach the disk; tests put a deliberately slow writer here. */
export type ChunkWriter = (handle: FileHandle, chunks: readonly Buffer[], position: number) => Promise<void>;

/** Writes the chunks in order from `position`, with as few system calls as the kernel allows. */
export const writeFully: ChunkWriter = async (handle, chunks, position) => {
  let rest = chunks.filter((c) => c.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest, position);
    position += bytesWritten;
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= rest[0]!.length) skip -= rest.shift()!.length;
    if (skip > 0) rest[0] = rest[0]!.subarray(skip);
  }
};

/**
 * A download in progress under the store's `.partial/` name: its bytes so far and their
 * digests, kept in step so that a resumed download ends with digests of the whole file.
 */
export class PartialFile {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly hash: BackgroundHash,
    private readonly writer: ChunkWriter,
  ) {}

  /**
   * With `resume`, bytes left by an earlier run are kept (and hashed); otherwise they are
   * dropped, by unlinking rather than truncating: ext4 flushes a file truncated to zero when it
   * is closed (its `auto_da_alloc` guard for rewritten files), which costs a 1 GiB download
   * half a second of writeback that nobody asked for.
   */
  static async open(path: string, algorithms: readonly HashAlgorithm[], options: { resume: boolean; writer: ChunkWriter }): Promise<PartialFile> {
    await mkdir(dirname(path), { recursive: true });
    const existing = await stat(path).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e)));
    const keep = options.resume && existing?.isFile() === true && existing.size > 0;
    if (existing && !keep) await unlink(path);
    const handle = await open(path, keep ? 'r+' : 'wx', 0o644);
    const file = new PartialFile(path, handle, new BackgroundHash(path, algorithms), options.writer);
    try {
      if (keep) await file.hash.extend(existing!.size);
    } catch (error) {
      await file.close();
      throw error;
    }
    return file;
  }

  get size(): number {
    return this.hash.size;
  }

  /**
   * Writes the chunks at the end of the file, then lets the hashing threads read them back
   * while the next ones are written. The chunks are free again when this returns.
   */
  async append(chunks: readonly Buffer[]): Promise<void> {
    const position = this.hash.size;
    const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
    await this.writer(this.handle, chunks, position);
    await this.hash.extend(position + bytes);
  }

  /** Drops every byte: the server ignored Range, or the bytes were found wrong. */
  async restart(): Promise<void> {
    if (this.hash.size === 0) return;
    // The hashing threads first finish what they were given, or they would read past the end.
    await this.hash.reset();
    await this.handle.truncate(0);
  }

  /**
   * Digests of the bytes written. No fsync: what would make a file lost in a power cut look
   * verified is the store's record, and that record is only believed within the same boot.
   */
  async finish(): Promise<Digests> {
    return this.hash.digests();
  }

  async close(): Promise<void> {
    await Promise.all([this.handle.close(), this.hash.close()]);
  }
}
