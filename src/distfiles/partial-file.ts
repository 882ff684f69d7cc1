import { type FileHandle, mkdir, open, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { MultiHash, hashFileInto } from './hash.js';
import type { HashAlgorithm } from './integrity.js';

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
    private handle: FileHandle,
    private hash: MultiHash,
    private readonly algorithms: readonly HashAlgorithm[],
    private readonly writer: ChunkWriter,
  ) {}

  /** With `resume`, bytes left by an earlier run are kept (and hashed); otherwise they are dropped. */
  static async open(path: string, algorithms: readonly HashAlgorithm[], options: { resume: boolean; writer: ChunkWriter }): Promise<PartialFile> {
    await mkdir(dirname(path), { recursive: true });
    const hash = new MultiHash(algorithms);
    const existing = options.resume ? await stat(path).catch((e: unknown) => (errnoCode(e) === 'ENOENT' ? undefined : Promise.reject(e))) : undefined;
    if (existing?.isFile() && existing.size > 0) await hashFileInto(path, hash, existing.size);
    const handle = await open(path, existing?.isFile() ? 'r+' : 'w', 0o644);
    const file = new PartialFile(path, handle, hash, algorithms, options.writer);
    if (!existing?.isFile() || existing.size !== hash.size) await file.restart();
    return file;
  }

  get size(): number {
    return this.hash.size;
  }

  /**
   * Hashing runs while the write is in the thread pool. A failed write leaves the digests ahead
   * of the disk, so the caller must give up on this file (local write errors are never retried).
   */
  async append(data: Buffer): Promise<void> {
    const written = this.writer(this.handle, data, this.hash.size);
    this.hash.update(data);
    await written;
  }

  /** Drops every byte: the server ignored Range, or the bytes were found wrong. */
  async restart(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = new MultiHash(this.algorithms);
  }

  /** Digests of the bytes written; the file is flushed to disk before they are trusted. */
  async finish(): Promise<ReturnType<MultiHash['digests']>> {
    await this.handle.sync();
    return this.hash.digests();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
