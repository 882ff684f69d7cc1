import { execa } from 'execa';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { projectRoot, tempDir } from '../../helpers/env.js';
import { writeTestLock } from '../../helpers/distfiles-lock.js';

let dir: { path: string; remove: () => void };
beforeEach(() => (dir = tempDir('lock-update-')));
afterEach(() => dir.remove());

/** What `fetch --pin` in several processes does to one lock: each adds its entries by updateLock. */
const WRITER = `
const { updateLock } = await import(${JSON.stringify(join(projectRoot, 'dist/distfiles/write-lock.js'))});
const [path, who, count] = process.argv.slice(1);
for (let i = 0; i < Number(count); i++) {
  await updateLock(path, (lock) => {
    lock.distfiles[\`\${who}-\${i}.tar\`] = { size: null, integrity: null, urls: ['https://example.org/x.tar'], kind: 'source' };
  });
}
`;

describe('updateLock across processes', () => {
  it('loses no entry when several processes update one lock at once', async () => {
    const lockPath = join(dir.path, 'distfiles.lock');
    await writeTestLock(lockPath, {});
    const PROCESSES = 5;
    const EACH = 15;
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) => execa(process.execPath, ['--input-type=module', '-e', WRITER, lockPath, `p${p}`, String(EACH)], { reject: false })),
    );
    for (const result of results) expect(result.exitCode, result.stderr).toBe(0);
    expect(Object.keys((await readLock(lockPath)).distfiles)).toHaveLength(PROCESSES * EACH);
  });
});
