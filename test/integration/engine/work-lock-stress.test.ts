import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { projectRoot, tempDir } from '../../helpers/env.js';

const PROCESSES = 6;
const TRIES = 100;

// Each contender takes the lock, writes enter, holds it a few milliseconds, writes leave and
// releases; holders never overlap when the enter/leave lines strictly alternate for one pid.
const CONTENDER = `
import { appendFileSync } from 'node:fs';
const [module, work, log, tries] = process.argv.slice(1);
const { acquireWorkLock } = await import(module);
let got = 0;
for (let i = 0; i < Number(tries); i++) {
  let lock;
  try {
    lock = await acquireWorkLock(work, 'stress');
  } catch (error) {
    if (error.code === 'ELOCKED') continue;
    throw error;
  }
  got++;
  appendFileSync(log, 'enter ' + process.pid + '\\n');
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
  appendFileSync(log, 'leave ' + process.pid + '\\n');
  await lock.release();
}
console.log(got);
`;

describe('the work lock under contention', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-lock-stress-');
  });
  afterEach(() => dir.remove());

  it(`never has two holders at once (${PROCESSES} processes × ${TRIES} tries)`, async () => {
    const log = join(dir.path, 'holders.log');
    writeFileSync(log, '');
    // Separate node processes run the built module (npm test builds first).
    const module = join(projectRoot, 'dist/engine/work-lock.js');
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () => execa(process.execPath, ['--input-type=module', '-e', CONTENDER, module, dir.path, log, String(TRIES)], { reject: false })),
    );
    for (const r of results) expect(r.stderr).toBe('');
    for (const r of results) expect(r.exitCode).toBe(0);
    const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    let holder: string | undefined;
    const overlaps: string[] = [];
    lines.forEach((line, index) => {
      const [what, pid] = line.split(' ');
      if (what === 'enter') {
        if (holder !== undefined) overlaps.push(`line ${index + 1}: ${pid} entered while ${holder} held the lock`);
        holder = pid;
      } else {
        if (holder !== pid) overlaps.push(`line ${index + 1}: ${pid} left while ${holder ?? 'nobody'} held the lock`);
        holder = undefined;
      }
    });
    expect(overlaps).toEqual([]);
    const entries = results.reduce((sum, r) => sum + Number(r.stdout), 0);
    expect(lines.length).toBe(2 * entries);
    expect(entries).toBeGreaterThan(PROCESSES); // contention really happened, and the lock was taken often
  }, 120_000);
});
