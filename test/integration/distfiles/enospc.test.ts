import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureDistfiles } from '../../../src/distfiles/ensure.js';
import { needsRoot, tempDir } from '../../helpers/env.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { type TestServer, startTestServer } from '../../helpers/http-server.js';

function isMountPoint(path: string): boolean {
  // Field 5 of /proc/self/mountinfo is the mount point, with spaces escaped as \040.
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4]?.replace(/\\040/g, ' ') === path);
}

let server: TestServer;
let dir: { path: string; remove: () => void };

beforeEach(async () => {
  server = await startTestServer();
  dir = tempDir('distfiles-enospc-');
});

afterEach(async () => {
  await server.close();
  const mountPoint = join(dir.path, 'small');
  if (isMountPoint(mountPoint)) await execa('umount', [mountPoint]);
  dir.remove();
});

describe('a full disk', () => {
  it('gives a clear ENOSPC error and leaves nothing under the final name', async (ctx) => {
    needsRoot(ctx);
    const mountPoint = join(dir.path, 'small');
    mkdirSync(mountPoint);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]);
    const body = randomBytes(3 << 20);
    server.route('/big.tar', body);
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, { 'big.tar': pinnedEntry(body, [`${server.url}/big.tar`]) });
    const error = await ensureDistfiles({ lockPath, storeDir: join(mountPoint, 'store'), names: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOSPC', exitCode: 1, message: expect.stringContaining('is full') });
    expect((error as { hint: string }).hint).toContain('.partial');
    expect(existsSync(join(mountPoint, 'store', 'big.tar'))).toBe(false);
    expect(server.requests).toHaveLength(1);
  });
});
