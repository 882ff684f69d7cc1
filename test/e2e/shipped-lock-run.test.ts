import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { projectRoot, tempDir } from '../helpers/env.js';

// The shipped lock pins Portage and squashfs-tools from Gentoo's Manifests and the default
// repository snapshot (gentoo-20250101.tar.xz) by Gentoo's signature; the squashfs form of the same
// snapshot (gentoo-20250101.xz.sqfs) is in the lock unpinned: no Manifest or signature covers it.
// A sealed `bootstrap run` given it refuses it when the run is planned, before anything is
// written, in one line that says what to do (README, "The real chain").
describe('bootstrap run with the shipped lock', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('refuses an unpinned snapshot (--set snapshot=) in one line naming the commands that pin it', async () => {
    dir = tempDir('shipped-lock-run-');
    const target = join(dir.path, 'target');
    const work = join(dir.path, 'work');
    mkdirSync(target);
    const lock = join(projectRoot, 'distfiles.lock');
    const result = await cli(['run', '--target', target, '--work', work, '--lb-chost', 'i386-unknown-linux-musl', '--set', 'snapshot=gentoo-20250101.xz.sqfs']);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toEqual([
      // One line: no hint, no second line.
      'error: step place-distfiles: the repository snapshot gentoo-20250101.xz.sqfs is unpinned in ' +
        `${lock} (no Gentoo Manifest covers a snapshot): pin it with ` +
        `\`bootstrap fetch --pin --only gentoo-20250101.xz.sqfs --lock ${lock} --dest ${work}/distfiles\` ` +
        '(trust on first use; the lock records where the bytes came from), or verify a snapshot against ' +
        "Gentoo's signature, add it with `bootstrap lock add URL --kind repo-snapshot --from \"checked against Gentoo's signature\" " +
        `--lock ${lock} --dest ${work}/distfiles\` and run with --set snapshot=<its name>`,
    ]);
    // Portage is pinned: the run does not refuse it, and nothing was written before the refusal.
    expect(result.stderr).not.toContain('portage-3.0.66.1');
    expect(existsSync(work)).toBe(false);
  });
});
