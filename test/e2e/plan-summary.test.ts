import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { tempDir } from '../helpers/env.js';

const WORK = ['--work', '/var/tmp/bootstrap-plan-summary-test'];

describe('bootstrap plan: a one-screen summary first (issue 11)', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('the shipped recipe: phases with step counts, roots, the snapshot pinned by signature; a run would go ahead (exit 0)', async () => {
    const result = await cli(['plan', '--recipe', 'gentoo-2025', ...WORK]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(50);
    const text = result.stdout;
    expect(text).toMatch(/^ {2}live-bootstrap \(1 step\): live-bootstrap$/m);
    expect(text).toMatch(/^ {2}host \(2 steps\): check-target, place-distfiles$/m);
    // Without --target, phase 0 builds live-bootstrap into the work directory.
    expect(text).toMatch(/^ {2}lb: +\/var\/tmp\/bootstrap-plan-summary-test\/live-bootstrap\/target$/m);
    // The shipped lock pins every input: no "unpinned" line, nothing refused.
    expect(text).not.toContain('unpinned');
    expect(text).not.toContain('refused');
    expect(text).toContain('(give --repo DIR, a Gentoo repository on this host, to see the list here)');
    expect(text).not.toContain('set -eu');
    expect(lines.at(-1)).toMatch(/^A run would go ahead: 54 steps\. The scripts and files: bootstrap plan --scripts/);
  });

  it('an unpinned snapshot: listed as unpinned, what a run would refuse; exit 2 with the reason last', async () => {
    const result = await cli(['plan', '--recipe', 'gentoo-2025', ...WORK, '--set', 'snapshot=gentoo-20250101.xz.sqfs']);
    expect(result.exitCode).toBe(2);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(50);
    const text = result.stdout;
    expect(text).toContain('unpinned: gentoo-20250101.xz.sqfs (step place-distfiles)');
    expect(lines.at(-1)).toMatch(/^A run would be refused: step place-distfiles: the repository snapshot gentoo-20250101\.xz\.sqfs is unpinned/);
    expect(text).toContain('step place-distfiles: the repository snapshot gentoo-20250101.xz.sqfs is unpinned');
    // The refusal is near the top, not at line 50.
    expect(lines.findIndex((l) => l.includes('is unpinned in'))).toBeLessThan(30);
  });

  it('--scripts and -v print the full scripts after the summary', async () => {
    for (const flag of ['--scripts', '-v', '--verbose']) {
      const result = await cli(['plan', '--recipe', 'demo', ...WORK, flag]);
      expect(result.exitCode, flag).toBe(0);
      expect(result.stdout, flag).toContain('set -eu');
      expect(result.stdout, flag).toContain('Phase root: Lay out a tiny root');
    }
  });

  it('a recipe a run would accept: exit 0, step ids shown, a hint last, no scripts', async () => {
    const result = await cli(['plan', '--recipe', 'demo', ...WORK]);
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('sandbox-check');
    expect(result.stdout).not.toContain('set -eu');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^A run would go ahead: \d+ steps\. The scripts and files: bootstrap plan --scripts/);
  });

  it('--json has refusals, and exits as the text form does', async () => {
    const refused = await cli(['plan', '--recipe', 'gentoo-2025', ...WORK, '--set', 'snapshot=gentoo-20250101.xz.sqfs', '--json']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe('');
    expect(JSON.parse(refused.stdout).refusals).toEqual([{ step: 'place-distfiles', message: expect.stringMatching(/^step place-distfiles: the repository snapshot gentoo-20250101\.xz\.sqfs is unpinned/) }]);
    dir = tempDir('bootstrap-plan-');
    mkdirSync(join(dir.path, 'usr/libexec/gcc/i386-unknown-linux-musl'), { recursive: true });
    const accepted = await cli(['plan', '--recipe', 'gentoo-2025', ...WORK, '--target', dir.path, '--json']);
    expect(accepted.exitCode).toBe(0);
    expect(JSON.parse(accepted.stdout).refusals).toEqual([]);
    // --record accepts the unpinned snapshot too (it pins what it fetches).
    const recorded = await cli(['plan', '--recipe', 'gentoo-2025', '--record', ...WORK, '--target', dir.path, '--set', 'snapshot=gentoo-20250101.xz.sqfs', '--json']);
    expect(recorded.exitCode).toBe(0);
    expect(JSON.parse(recorded.stdout).refusals).toEqual([]);
  });
});
