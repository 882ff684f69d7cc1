/**
 * 1 MiB pieces for body chunks, reused. A download passes a gigabyte through them; fresh memory
 * costs a page fault per 4 KiB (a second of kernel time per GiB here), so pieces the hashing
 * threads are done with come back and are handed out again. Their memory is a
 * SharedArrayBuffer, which the hashing threads read in place: nothing is copied or moved to
 * hash a piece.
 */
const SIZE = 1 << 20;
/**
 * What a few downloads keep in flight at once: per download up to 3 MiB queued for the disk
 * (http-download.ts), one piece being written and 2 MiB being hashed (background-hash.ts);
 * four downloads used 20 pieces. Fewer here would free pieces only to allocate them again.
 */
const MAX_IDLE = 32;
const idle: Buffer[] = [];

/** A piece of `size` bytes: a pooled shared one for 1 MiB, else plain memory. */
export function acquireChunk(size: number): Buffer {
  if (size !== SIZE) return Buffer.allocUnsafeSlow(size);
  return idle.pop() ?? Buffer.from(new SharedArrayBuffer(SIZE));
}

/** Gives a piece from acquireChunk back; anything else is left to the garbage collector. */
export function releaseChunk(piece: Buffer): void {
  if (!(piece.buffer instanceof SharedArrayBuffer) || piece.byteLength !== SIZE || idle.length >= MAX_IDLE) return;
  // Given back twice, a piece would be handed to two owners at once.
  if (!idle.some((p) => p.buffer === piece.buffer)) idle.push(piece);
}
