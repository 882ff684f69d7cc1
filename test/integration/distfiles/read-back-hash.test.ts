import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDistfiles } from '../../../src/distfiles/ensure.js';
import { type ChunkWriter, writeFully } from '../../../src/distfiles/partial-file.js';
import { tempDir } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

let server: TestServer;
let dir: { path: string; remove: () => void };

beforeEach(async () => {
  server = await startTestServer();
  dir = tempDir('distfiles-read-back-');
});

afterEach(async () => {
  await server.close();
  dir.remove();
});

describe('the digests are of the bytes the file holds', () => {
  it('catches bytes that reach the disk other than they arrived, and gives the file no final name', async () => {
    const body = randomBytes((3 << 20) + 123);
    server.route('/f.tar', body);
    const lockPath = join(dir.path, 'distfiles.lock');
    const storeDir = join(dir.path, 'store');
    await writeTestLock(lockPath, { 'f.tar': pinnedEntry(body, [`${server.url}/f.tar`]) });
    // Writes one byte of the second MiB wrong: the body that arrived was right, the file is not.
    const corrupting: ChunkWriter = async (handle, chunks, position) => {
      await writeFully(handle, chunks, position);
      if (position <= 1 << 20 && position + chunks.reduce((n, c) => n + c.length, 0) > 1 << 20) {
        await handle.write(Buffer.from([body[1 << 20]! ^ 0xff]), 0, 1, 1 << 20);
      }
    };
    const error = await ensureDistfiles({ lockPath, storeDir, names: [], tuning: { writer: corrupting, attempts: 1 } }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH', message: expect.stringContaining('f.tar: no source gave the file the lock describes') });
    expect(existsSync(join(storeDir, 'f.tar'))).toBe(false);
    const kept = readdirSync(join(storeDir, '.bad'));
    expect(kept.length).toBeGreaterThan(0);
    // What was set aside is the corrupted file, whose digest was found wrong.
    const bad = readFileSync(join(storeDir, '.bad', kept[0]!));
    expect(bad.length).toBe(body.length);
    expect(bad[1 << 20]).toBe(body[1 << 20]! ^ 0xff);

    // The same download with an honest writer passes.
    const result = await ensureDistfiles({ lockPath, storeDir, names: [], tuning: { writer: writeFully } });
    expect(readFileSync(result['f.tar']!.path).equals(body)).toBe(true);
  });
});
