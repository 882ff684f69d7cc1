import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBusyboxRoot } from '../../helpers/busybox-root.js';
import { cli, startCli, waitFor } from '../../helpers/cli.js';
import { execFileSync } from 'node:child_process';
import { needsRoot, projectRoot, tempDir } from '../../helpers/env.js';

const RECIPE = join(projectRoot, 'test/fixtures/preflight/recipe.yaml');

// A stand-in for emerge (the real-Portage tier asks the real one): it records its words, refuses
// to run without --pretend, and answers as emerge does.
const STAND_IN_EMERGE = `#!/bin/sh
echo "$*" >> /var/log/stand-in-emerge.args
case " $* " in *" --pretend "*) ;; *) echo "stand-in emerge: asked to really build" >&2; exit 3 ;; esac
for a in "$@"; do
  case "$a" in
    missing/*) printf '\\nemerge: there are no ebuilds to satisfy "%s".\\n\\n' "$a"; exit 1 ;;
    -*) ;;
    *) echo "[ebuild  N     ] $a-1.0::gentoo  USE=\\"x\\"" ;;
  esac
done
`;

function overlayMountsOnHost(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(' - overlay ') && l.includes('bootstrap-test-'));
}

describe('bootstrap preflight', () => {
  let dir: ReturnType<typeof tempDir>;
  let target: string;
  let work: string;
  beforeEach(() => {
    dir = tempDir();
    target = join(dir.path, 'target');
    work = join(dir.path, 'work');
    makeBusyboxRoot(target);
    mkdirSync(join(target, 'var/log'), { recursive: true });
    mkdirSync(join(target, 'opt/unpacked/bin'), { recursive: true });
    for (const path of ['usr/bin/stand-in-emerge', 'opt/unpacked/bin/emerge']) {
      writeFileSync(join(target, path), STAND_IN_EMERGE);
      chmodSync(join(target, path), 0o755);
    }
  });
  afterEach(() => dir.remove());

  it('runs the setup in an overlay, asks every emerge step, and writes nothing to the target', async (ctx) => {
    needsRoot(ctx);
    const before = readdirSync(target, { recursive: true }).sort();
    const result = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--keep', '--json']);
    expect(result.exitCode, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    expect(report.type).toBe('preflight-report');
    expect(report.ok).toBe(false);
    const byStep = Object.fromEntries(report.steps.map((s: { step: string }) => [s.step, s]));
    expect(Object.keys(byStep)).toEqual(['write-config', 'unpack', 'emerge-good', 'emerge-missing', 'emerge-listed']);
    expect(byStep['unpack'].how).toBe('ran');
    expect(byStep['emerge-good'].result).toEqual({ ok: true, would: ['good/pkg-1.0'], problems: [] });
    expect(byStep['emerge-missing'].result.ok).toBe(false);
    expect(byStep['emerge-missing'].result.problems).toEqual([{ kind: 'missing', lines: ['emerge: there are no ebuilds to satisfy "missing/pkg".'] }]);
    // A blocked step does not hide the next one's answer; atoms come from the file, comments and blank lines dropped.
    expect(byStep['emerge-listed'].result.would).toEqual(['list/one-1.0', 'list/two-1.0']);
    expect(report.stoppedBefore.step).toBe('in-made-root');

    // The target is untouched; what the steps wrote is in the kept upper layer.
    expect(readdirSync(target, { recursive: true }).sort()).toEqual(before);
    const upper = join(work, 'preflight/upper');
    expect(readFileSync(join(upper, 'var/lib/fixture/marker'), 'utf8')).toBe('unpacked\n');
    expect(readFileSync(join(upper, 'etc/fixture.conf'), 'utf8')).toBe('fixture = 1\n');
    expect(existsSync(join(upper, 'var/lib/fixture/after'))).toBe(false);
    expect(readFileSync(join(upper, 'var/log/stand-in-emerge.args'), 'utf8').trim().split('\n')).toEqual([
      '--pretend --color=n --nospinner -1 good/pkg',
      '--pretend --color=n --nospinner -1 missing/pkg',
      '--pretend --color=n --nospinner -D1n list/one list/two',
    ]);
    // The overlay lived in a private mount namespace: nothing left on the host.
    expect(overlayMountsOnHost()).toEqual([]);
    expect(existsSync(join(work, 'preflight/report.json'))).toBe(true);
  });

  it('says in text which steps resolve and which do not, and removes its overlay layers', async (ctx) => {
    needsRoot(ctx);
    const result = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--plain']);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/resolves emerge-good: 1: good\/pkg-1\.0/);
    expect(result.stdout).toMatch(/blocked +emerge-missing: missing/);
    expect(result.stdout).toMatch(/Stopped before step in-made-root: root made/);
    expect(result.stdout).toMatch(/Preflight failed: 3 steps asked, 1 do not resolve/);
    expect(existsSync(join(work, 'preflight/upper'))).toBe(false);
    expect(existsSync(join(work, 'preflight/logs'))).toBe(true);
    // A second preflight replaces the first one's folder (it made it).
    const again = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--until', 'emerge-good']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/Preflight passed: 1 steps asked, all resolve/);
  });

  it('works through a --work path with a symbolic link in it, and leaves no mount', async (ctx) => {
    needsRoot(ctx);
    mkdirSync(join(dir.path, 'real'));
    symlinkSync('real', join(dir.path, 'link'));
    const linked = join(dir.path, 'link/work');
    const result = await cli(['preflight', '--recipe', RECIPE, '--work', linked, '--target', target, '--until', 'emerge-good']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(overlayMountsOnHost()).toEqual([]);
    expect(readdirSync(join(dir.path, 'real/work/preflight')).sort()).toEqual(['.bootstrap-preflight', 'journal.jsonl', 'logs', 'report.json']);
  });

  it('dies with the command the user started, even by SIGKILL, and says when it was interrupted', async (ctx) => {
    needsRoot(ctx);
    const child = startCli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--set', 'pause=30', '--plain']);
    await waitFor(() => existsSync(join(work, 'preflight/logs/002-unpack.1.log')), 30_000, 'the unpack step');
    child.kill('SIGKILL');
    await child;
    // The re-run in its own mount namespace and the step's sleep go with it.
    const survivors = () => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(work));
    await waitFor(() => survivors().length === 0, 10_000, 'the preflight processes to go');
    expect(overlayMountsOnHost()).toEqual([]);

    const work2 = join(dir.path, 'work2');
    const interrupted = startCli(['preflight', '--recipe', RECIPE, '--work', work2, '--target', target, '--set', 'pause=30', '--plain']);
    await waitFor(() => existsSync(join(work2, 'preflight/logs/002-unpack.1.log')), 30_000, 'the unpack step');
    interrupted.kill('SIGTERM');
    const done = await interrupted;
    expect(done.exitCode, `${done.signal} ${String(done.stdout).slice(-500)} ${String(done.stderr).slice(-500)}`).toBe(143);
    expect(String(done.stdout)).toMatch(/interrupted +unpack/);
    expect(String(done.stdout)).toMatch(/Preflight interrupted: 0 steps asked/);
    expect(existsSync(join(work2, 'preflight/upper'))).toBe(false);
  });

  it('refuses to clear its folder while something is mounted below it, and keeps knowing the folder as its own', async (ctx) => {
    needsRoot(ctx);
    expect((await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--until', 'emerge-good', '--keep'])).exitCode).toBe(0);
    const mountPoint = join(work, 'preflight/upper/var');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mountPoint]);
    try {
      const busy = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--until', 'emerge-good']);
      expect(busy.exitCode).toBe(2);
      expect(busy.stderr).toContain(`has mounts below it: ${mountPoint}`);
    } finally {
      execFileSync('umount', [mountPoint]);
    }
    const again = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target, '--until', 'emerge-good']);
    expect(again.exitCode, again.stderr).toBe(0);
  });

  it('refuses a folder it did not make, and needs root', async (ctx) => {
    needsRoot(ctx);
    mkdirSync(join(work, 'preflight'), { recursive: true });
    writeFileSync(join(work, 'preflight/mine'), 'keep me');
    const result = await cli(['preflight', '--recipe', RECIPE, '--work', work, '--target', target]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/exists and was not made by bootstrap preflight/);
    expect(readFileSync(join(work, 'preflight/mine'), 'utf8')).toBe('keep me');
  });
});
