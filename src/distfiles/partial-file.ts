import { type FileHandle, mkdir, open, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { BackgroundHash } from './background-hash.js';
import { releaseChunk } from './chunk-pool.js';
import { hashFileInto } from './hash.js';
import type { Digests, HashAlgorithm } from './integrity.js';

/** How bytes reach the disk; tests put a deliberately slow writer here. */
export type ChunkWriter = (handle: FileHandle, data: Buffer, position: number) => Promise<void>;

export const writeFully: ChunkWriter = async (handle, data, position) => {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
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
    const file = new PartialFile(path, handle, new BackgroundHash(algorithms), options.writer);
    try {
      if (keep) await hashFileInto(path, file.hash, existing!.size);
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
   * Writes a chunk, then hands it to the hashing threads and returns while they hash: the next
   * chunk is written meanwhile. `data` belongs to this file after the call; a piece of the
   * chunk pool goes back to the pool once hashed.
   */
  async append(data: Buffer): Promise<void> {
    await this.writer(this.handle, data, this.hash.size);
    await this.hash.update(data, () => releaseChunk(data));
  }

  /** Drops every byte: the server ignored Range, or the bytes were found wrong. */
  async restart(): Promise<void> {
    if (this.hash.size === 0) return;
    await this.handle.truncate(0);
    await this.hash.reset();
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
