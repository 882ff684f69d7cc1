import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeBusyboxRoot } from '../helpers/busybox-root.js';
import { cliPath, needsTool, tempDir } from '../helpers/env.js';
import { makeFakeCatalyst } from '../helpers/fake-catalyst.js';
import { makeSeed } from '../helpers/handoff-seed.js';
import { makeMiniReleng } from '../helpers/mini-releng.js';

const cli = (args: string[]) => execa('node', [cliPath, ...args], { reject: false, env: { NO_COLOR: '1' } });

describe('bootstrap handoff', () => {
  let tmp: ReturnType<typeof tempDir>;
  let seed: string;
  let fake: string;
  let base: string[];

  beforeEach(() => {
    tmp = tempDir('handoff-cli-');
    mkdirSync(join(tmp.path, 'out'));
    mkdirSync(join(tmp.path, 'bin'));
    seed = makeSeed(join(tmp.path, 'out'));
    fake = makeFakeCatalyst(join(tmp.path, 'bin'));
    base = ['handoff', '--seed', seed, '--storedir', join(tmp.path, 'catalyst'), '--treeish', 'abc', '--timestamp', '2025-06-12', '--releng', makeMiniReleng(join(tmp.path, 'releng'))];
  });
  afterEach(() => tmp.remove());

  it('prints the exact Catalyst commands in order when --run is not given', async () => {
    const result = await cli(base);
    expect(result.exitCode).toBe(0);
    const specs = join(tmp.path, 'catalyst/specs');
    const commands = result.stdout.split('\n').filter((l) => l.trim().startsWith('catalyst '));
    expect(commands.map((l) => l.trim())).toEqual(
      ['stage1-systemd-23', 'stage3d-systemd-23', 'installcd-stage1', 'installcd-stage2-minimal'].map((s) => `catalyst -c ${specs}/catalyst.conf -f ${specs}/${s}.spec`),
    );
    const json = await cli([...base, '--json']);
    const doc = JSON.parse(json.stdout) as { sourceSubpath: string; commands: Array<{ argv: string[] }> };
    expect(doc.sourceSubpath).toBe('default/stage3-bootstrap');
    expect(doc.commands).toHaveLength(4);
    // The edit list is shown for review.
    expect(result.stdout).toContain('releases/portage/stages/package.mask/releng/rust: "dev-lang/rust" -> "dev-lang/rust-bin"');
    const openrc = await cli([...base, '--init', 'openrc', '--specs-dir', join(tmp.path, 'openrc-specs')]);
    expect(openrc.stdout).toContain(`-f ${join(tmp.path, 'openrc-specs')}/stage1-openrc-23.spec`);
    const noReleng = await cli(base.slice(0, -2));
    expect(noReleng.exitCode).toBe(2);
    expect(noReleng.stderr).toContain('releng-87eea8b66cef13d62fc8bcf2e27a573e86423b75.tar.bz2');
  });

  it('runs the stages with --run, reports a failure with its log, and resumes on the next invocation', async () => {
    writeFileSync(join(tmp.path, 'bin/fail-on'), 'stage3d-systemd-23.spec');
    const failed = await cli([...base, '--run', fake]);
    expect(failed.exitCode).toBe(1);
    const log = join(tmp.path, 'catalyst/specs/logs/stage3.log');
    expect(failed.stderr).toContain('Catalyst failed in stage3 (exit code 3)');
    expect(failed.stderr).toContain('!!! emerge failed for stage3d-systemd-23.spec');
    expect(failed.stderr).toContain(`log: ${log}`);
    expect(failed.stderr).toMatch(/re-run[\s\S]*bootstrap handoff --seed/);
    expect(existsSync(join(tmp.path, 'catalyst/specs/logs/stage1.log'))).toBe(true);

    rmSync(join(tmp.path, 'bin/fail-on'));
    const resumed = await cli([...base, '--run', fake, '--follow']);
    expect(resumed.exitCode).toBe(0);
    expect(resumed.stdout).toContain('catalyst: finished installcd-stage2-minimal.spec');
    expect(resumed.stdout).not.toContain('catalyst: building stage1-systemd-23.spec');
    expect(resumed.stdout).toMatch(/skip stage1/);
    expect(resumed.stdout).toMatch(/done stage3[\s\S]*done installcd-stage2-minimal/);
  });

  it('stops Catalyst on SIGINT and exits 130', async () => {
    writeFileSync(join(tmp.path, 'bin/hang-on'), 'stage1-systemd-23.spec');
    const child = execa('node', [cliPath, ...base, '--run', fake], { reject: false, env: { NO_COLOR: '1' } });
    // Wait until the stand-in is running (it records its call first), then interrupt.
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', () => {
        if (existsSync(join(tmp.path, 'bin/calls'))) resolve();
      });
      const poll = setInterval(() => {
        if (existsSync(join(tmp.path, 'bin/calls'))) {
          clearInterval(poll);
          resolve();
        }
      }, 50);
    });
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toMatch(/interrupted in stage1/);
    expect(existsSync(join(tmp.path, 'catalyst/specs/logs/stage1.done'))).toBe(false);
  });

  it('refuses bad input with exit code 2 and a message naming what is wrong', async () => {
    const percent = await cli([...base, '--specs-dir', join(tmp.path, 'specs%x')]);
    expect(percent.exitCode).toBe(2);
    expect(percent.stderr).toMatch(/portage_confdir contains %/);
    const run = await cli([...base, '--run', 'catalyst; reboot']);
    expect(run.exitCode).toBe(2);
    expect(existsSync(join(tmp.path, 'catalyst'))).toBe(false);
  });
});

describe('bootstrap vm-image', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('vm-image-cli-');
  });
  afterEach(() => tmp.remove());

  it('builds the image, prints the qemu command, and refuses to overwrite it', async (ctx) => {
    needsTool(ctx, 'mkfs.ext4', 'e2fsprogs');
    const root = join(tmp.path, 'root');
    makeBusyboxRoot(root);
    const out = join(tmp.path, 'gentoo.img');
    const built = await cli(['vm-image', '--root', root, '--out', out, '--size', '32M', '--kernel', join(root, 'bin/busybox')]);
    expect(built.exitCode).toBe(0);
    expect(built.stdout).toContain(`qemu-system-x86_64 -accel kvm`);
    expect(built.stdout).toContain(`-drive file=${out},format=raw -kernel ${root}/bin/busybox`);
    expect(built.stdout).toMatch(/PermitRootLogin/);
    const again = await cli(['vm-image', '--root', root, '--out', out, '--size', '32M']);
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});
