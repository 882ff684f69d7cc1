import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, mountsUnder } from '../../helpers/cli.js';
import { needsRoot, tempDir } from '../../helpers/env.js';

/** Unmounts whatever a test left below dir, deepest first, by absolute path. */
function cleanMounts(dir: string): void {
  for (const mp of mountsUnder(dir).sort((a, b) => b.length - a.length)) {
    execFileSync('umount', ['--', mp]);
  }
}

describe('bootstrap unmount and doctor with real mounts', () => {
  let dir: { path: string; remove: () => void };
  let target: string;
  let sibling: string;

  beforeEach((ctx) => {
    needsRoot(ctx);
    dir = tempDir('bootstrap-mounts-');
    target = join(dir.path, 'target');
    // A sibling whose name starts with the target's: a prefix match must not catch it.
    sibling = join(dir.path, 'target-other');
    for (const d of ['proc', 'dev', 'dev/shm', 'tmp', 'my dir']) mkdirSync(join(target, d), { recursive: true });
    mkdirSync(sibling);
    // What live-bootstrap leaves behind, minus the real proc/dev (tmpfs stands in for them).
    execFileSync('mount', ['-t', 'tmpfs', 'lbproc', join(target, 'proc')]);
    execFileSync('mount', ['-t', 'tmpfs', 'lbdev', join(target, 'dev')]);
    mkdirSync(join(target, 'dev/shm'));
    execFileSync('mount', ['-t', 'tmpfs', 'lbshm', join(target, 'dev/shm')]);
    execFileSync('mount', ['-t', 'tmpfs', 'lbtmp', join(target, 'my dir')]);
    execFileSync('mount', ['-t', 'tmpfs', 'other', sibling]);
  });
  afterEach(() => {
    if (!dir) return;
    cleanMounts(dir.path);
    dir.remove();
  });

  it('doctor reports the mounts below the target with the command that removes them', async () => {
    const result = await cli(['doctor', '--target', target, '--json', '--min-free', '0']);
    const doc = JSON.parse(result.stdout);
    const mounts = doc.checks.find((c: { name: string }) => c.name === 'target mounts');
    expect(mounts.level).toBe('warn');
    expect(mounts.detail).toContain(join(target, 'dev/shm'));
    expect(mounts.detail).toContain(join(target, 'my dir'));
    expect(mounts.detail).not.toContain(sibling);
    expect(mounts.fix).toBe(`bootstrap unmount --target ${target}`);
  });

  it('removes only the mounts below the target, deepest first, through a symlinked path', async () => {
    const link = join(dir.path, 'link');
    symlinkSync(target, link);
    const dry = await cli(['unmount', '--target', link, '--dry-run']);
    expect(dry.exitCode).toBe(0);
    expect(mountsUnder(target)).toHaveLength(4);
    const result = await cli(['unmount', '--target', link]);
    expect(result.exitCode).toBe(0);
    const order = result.stdout.trim().split('\n');
    expect(order.indexOf(`unmounted ${join(target, 'dev/shm')}`)).toBeLessThan(order.indexOf(`unmounted ${join(target, 'dev')}`));
    expect(order).toContain(`unmounted ${join(target, 'my dir')}`);
    expect(mountsUnder(target)).toEqual([]);
    expect(mountsUnder(sibling)).toEqual([sibling]);
    const again = await cli(['unmount', '--target', target]);
    expect(again.stdout).toContain('no mounts below');
  });

  it('refuses the host root', async () => {
    const result = await cli(['unmount', '--target', '/']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('refusing to unmount everything below /');
  });
});
