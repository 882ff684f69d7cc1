import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalystCommands } from '../../../src/handoff/commands.js';
import { handoff, type HandoffOptions } from '../../../src/handoff/handoff.js';
import { runStages } from '../../../src/handoff/run-stages.js';
import { tempDir } from '../../helpers/env.js';
import { makeFakeCatalyst } from '../../helpers/fake-catalyst.js';
import { makeSeed } from '../../helpers/handoff-seed.js';
import { makeMiniReleng } from '../../helpers/mini-releng.js';

describe('runStages()', () => {
  let tmp: ReturnType<typeof tempDir>;
  let fake: string;
  let opts: HandoffOptions;
  let specsDir: string;
  const calls = () => (existsSync(join(tmp.path, 'bin/calls')) ? readFileSync(join(tmp.path, 'bin/calls'), 'utf8').trim().split('\n') : []);
  const specOrder = ['stage1-systemd-23.spec', 'stage3d-systemd-23.spec', 'installcd-stage1.spec', 'installcd-stage2-minimal.spec'];

  beforeEach(async () => {
    tmp = tempDir('handoff-run-');
    mkdirSync(join(tmp.path, 'bin'));
    fake = makeFakeCatalyst(join(tmp.path, 'bin'));
    mkdirSync(join(tmp.path, 'out'));
    opts = { seed: makeSeed(join(tmp.path, 'out')), storedir: join(tmp.path, 'catalyst'), treeish: 'abc123', timestamp: '2025-06-12', jobs: 2, releng: makeMiniReleng(join(tmp.path, 'releng')) };
    specsDir = (await handoff(opts)).specsDir;
  });
  afterEach(() => tmp.remove());

  it('runs the stages in order with their own logs, and skips finished ones the next time', async () => {
    const first = await runStages({ specsDir, catalyst: [fake] });
    expect(first.map((o) => [o.stage, o.status])).toEqual([
      ['stage1', 'done'],
      ['stage3', 'done'],
      ['installcd-stage1', 'done'],
      ['installcd-stage2-minimal', 'done'],
    ]);
    expect(calls()).toEqual(catalystCommands(specsDir, []).map((c) => c.argv.join(' ')));
    expect(calls().map((c) => c.split(' ')[3]!.split('/').pop())).toEqual(specOrder);
    for (const o of first) {
      expect(o.logPath).toBe(join(specsDir, 'logs', `${o.stage}.log`));
      expect(readFileSync(o.logPath, 'utf8')).toContain(`catalyst: finished ${specOrder[first.indexOf(o)]}`);
    }
    const second = await runStages({ specsDir, catalyst: [fake] });
    expect(second.map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    expect(calls()).toHaveLength(4);
  });

  it('stops at a failing stage with its log tail, and a re-run resumes from it', async () => {
    writeFileSync(join(tmp.path, 'bin/fail-on'), 'stage3d-systemd-23.spec');
    const failed = await runStages({ specsDir, catalyst: [fake] });
    expect(failed.map((o) => o.status)).toEqual(['done', 'failed']);
    const last = failed[1]!;
    expect(last).toMatchObject({ stage: 'stage3', exitCode: 3, logPath: join(specsDir, 'logs/stage3.log') });
    expect(last.tail).toContain('!!! emerge failed for stage3d-systemd-23.spec');
    expect(existsSync(join(specsDir, 'logs/stage3.done'))).toBe(false);

    rmSync(join(tmp.path, 'bin/fail-on'));
    const resumed = await runStages({ specsDir, catalyst: [fake] });
    expect(resumed.map((o) => o.status)).toEqual(['skipped', 'done', 'done', 'done']);
    // The log keeps the failed attempt above the new one.
    expect(readFileSync(join(specsDir, 'logs/stage3.log'), 'utf8')).toMatch(/attempt:[\s\S]*emerge failed[\s\S]*attempt:[\s\S]*catalyst: finished stage3d-systemd-23\.spec/);
    expect(calls().map((c) => c.split(' ')[3]!.split('/').pop())).toEqual(['stage1-systemd-23.spec', 'stage3d-systemd-23.spec', ...specOrder.slice(1)]);
  });

  it('re-runs a stage whose spec changed, and every stage after it', async () => {
    await runStages({ specsDir, catalyst: [fake] });
    const spec = join(specsDir, 'installcd-stage1.spec');
    writeFileSync(spec, readFileSync(spec, 'utf8').replace('app-misc/livecd-tools', 'app-misc/tmux\n\tapp-misc/livecd-tools'));
    const again = await runStages({ specsDir, catalyst: [fake] });
    expect(again.map((o) => o.status)).toEqual(['skipped', 'skipped', 'done', 'done']);
    // A new hand-off with another timestamp changes every spec.
    await handoff({ ...opts, timestamp: '2025-07-01' });
    const all = await runStages({ specsDir, catalyst: [fake] });
    expect(all.map((o) => o.status)).toEqual(['done', 'done', 'done', 'done']);
  });

  it('stops the child when the signal aborts, and does not mark the stage finished', async () => {
    writeFileSync(join(tmp.path, 'bin/hang-on'), 'stage1-systemd-23.spec');
    const controller = new AbortController();
    const outcomes = await runStages({
      specsDir,
      catalyst: [fake],
      signal: controller.signal,
      onOutput: (_stage, chunk) => {
        if (chunk.toString().includes('waiting')) controller.abort();
      },
    });
    expect(outcomes.map((o) => [o.stage, o.status])).toEqual([['stage1', 'interrupted']]);
    expect(existsSync(join(specsDir, 'logs/stage1.done'))).toBe(false);
  });

  it('names the Catalyst machine\'s paths in commands and keeps logs on this machine', async () => {
    const root = join(tmp.path, 'vmroot');
    const result = await handoff({ ...opts, storedir: '/var/tmp/catalyst', targetRoot: root });
    const outcomes = await runStages({ specsDir: result.specsDir, hostSpecsDir: result.hostSpecsDir, catalyst: [fake] });
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(calls()[0]).toBe('-c /var/tmp/catalyst/specs/catalyst.conf -f /var/tmp/catalyst/specs/stage1-systemd-23.spec');
    expect(outcomes[0]!.logPath).toBe(join(root, 'var/tmp/catalyst/specs/logs/stage1.log'));
    expect(existsSync(join(root, 'var/tmp/catalyst/specs/logs/installcd-stage2-minimal.done'))).toBe(true);
  });

  it('refuses specs that still wait for their tree-ish, before running anything', async () => {
    await handoff({ ...opts, treeish: undefined, deferTreeish: true });
    await expect(runStages({ specsDir, catalyst: [fake] })).rejects.toMatchObject({ code: 'EHANDOFF_NO_TREEISH' });
    expect(calls()).toEqual([]);
  });

  it('reports a Catalyst command that cannot be started as a failed stage', async () => {
    const outcomes = await runStages({ specsDir, catalyst: [join(tmp.path, 'bin/no-such-catalyst')] });
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]).toMatchObject({ stage: 'stage1', status: 'failed' });
    expect(outcomes[0]!.tail!.join('\n')).toMatch(/could not start/);
  });
});
