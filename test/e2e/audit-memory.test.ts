import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cliPath, needsTool } from '../helpers/env.js';

const GiB = 1 << 30;
const LIMIT_KB = 200 * 1024;

let dir: string;
beforeEach(() => {
  // /var/tmp, not /tmp: the archive is over a gigabyte and /tmp may be a small tmpfs.
  dir = mkdtempSync('/var/tmp/bootstrap-audit-memory-');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Peak resident memory of a process (VmHWM, kB), sampled until it exits. */
function watchPeak(pid: number): { stop: () => number } {
  let peak = 0;
  const sample = () => {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) peak = Math.max(peak, Number(match[1]));
    } catch {
      // The process has exited; the last sample stands.
    }
  };
  const timer = setInterval(sample, 20);
  return { stop: () => (clearInterval(timer), sample(), peak) };
}

it('scans a 1 GiB .tar.gz member by member with peak memory under 200 MB', async (ctx) => {
  needsTool(ctx, 'gzip');
  const tree = join(dir, 'big-1.0');
  mkdirSync(join(tree, 'bin'), { recursive: true });
  // A sparse file costs no disk; tar still reads and stores a full gigabyte of zeros.
  writeFileSync(join(tree, 'data.bin'), '');
  truncateSync(join(tree, 'data.bin'), GiB);
  copyFileSync('/bin/true', join(tree, 'bin/zz-true'));
  const archive = join(dir, 'big-1.0.tar.gz');
  execFileSync('tar', ['-c', '-I', 'gzip -1', '-f', archive, '-C', dir, 'big-1.0/data.bin', 'big-1.0/bin/zz-true']);
  rmSync(tree, { recursive: true });

  const child = execa(process.execPath, [cliPath, 'audit', '--scan', archive, '--json'], { reject: false, env: { NO_COLOR: '1' } });
  const peak = watchPeak(child.pid!);
  const result = await child;
  const peakKb = peak.stop();
  rmSync(archive);

  expect(result.exitCode).toBe(1);
  const doc = JSON.parse(String(result.stdout));
  expect(doc.findings.map((f: { member: string; kind: string }) => [f.member, f.kind])).toEqual([['big-1.0/bin/zz-true', 'elf']]);
  expect(doc.checks.find((c: { check: string }) => c.check === 'binaries').reason).toMatch(/tar\+gzip, 2 members scanned/);
  expect(statSync(dir).isDirectory()).toBe(true);
  ctx.annotate(`peak RSS of bootstrap audit over a 1 GiB tar.gz: ${Math.round(peakKb / 1024)} MiB`);
  expect(peakKb).toBeGreaterThan(0);
  expect(peakKb).toBeLessThan(LIMIT_KB);
});
