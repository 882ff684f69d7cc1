import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli, mountsUnder, waitFor } from '../helpers/cli.js';
import { needsRoot, needsTool, tempDir } from '../helpers/env.js';

describe('bootstrap why STEP: which inputs of a finished step changed (issue 11)', () => {
  let dir: { path: string; remove: () => void };
  let work: string;

  beforeEach((ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'busybox', 'busybox-static');
    dir = tempDir('bootstrap-why-');
    work = join(dir.path, 'work');
  });
  afterEach(async () => {
    if (dir) {
      await waitFor(() => mountsUnder(dir.path).length === 0, 10_000, 'mounts to go').catch(() => undefined);
      dir.remove();
    }
  });

  it('names the changed parameter, env value, file and script of a step, with a diff; an unchanged step says so; an older journal cannot tell', async () => {
    expect((await cli(['run', '--recipe', 'demo', '--work', work, '--plain'])).exitCode).toBe(0);

    const same = await cli(['why', 'config', '--work', work]);
    expect(same.stderr).toBe('');
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain('config [write in demo]: unchanged since it finished');
    expect(same.stdout).toContain('resume has nothing to run');

    const message = ['--set', 'message=Goodbye from bootstrap'];
    const config = await cli(['why', 'config', '--work', work, ...message]);
    expect(config.exitCode).toBe(0);
    expect(config.stdout).toMatch(/^ {2}root\.env\.DEMO_MESSAGE {2}[0-9a-f]{16} → [0-9a-f]{16}$/m);
    expect(config.stdout).toMatch(/^ {4}-Hello from a root built by bootstrap$/m);
    expect(config.stdout).toMatch(/^ {4}\+Goodbye from bootstrap$/m);
    expect(config.stdout).toMatch(/^ {2}file \/etc\/motd {2}[0-9a-f]{16} → [0-9a-f]{16}$/m);
    expect(config.stdout).toContain('Parameters changed since it finished: message ("Hello from a root built by bootstrap" → "Goodbye from bootstrap")');
    expect(config.stdout).not.toMatch(/^ {2}script /m);
    const json = JSON.parse((await cli(['why', 'config', '--work', work, ...message, '--json'])).stdout);
    expect(json.verdict).toBe('changed');
    expect(json.changes.map((c: { name: string }) => c.name).sort()).toEqual(expect.arrayContaining(['root.env.DEMO_MESSAGE', 'file /etc/motd']));

    // busybox-root runs on the host root: the message is none of its inputs.
    const host = await cli(['why', 'busybox-root', '--work', work, ...message]);
    expect(host.stdout).toContain('busybox-root [run in host]: unchanged since it finished');
    expect(host.stdout).toContain('resume starts at probe (step probe changed in the recipe since it ran), after it: this step is not run again.');

    // A parameter only one step's script uses: that step's script, as a diff.
    const check = await cli(['why', 'check', '--work', work, '--set', 'fail=yes']);
    expect(check.stdout).toContain('check [run in demo]: 1 input of its fingerprint changed');
    expect(check.stdout).toMatch(/^ {2}script {2}[0-9a-f]{16} → [0-9a-f]{16}$/m);
    expect(check.stdout).toMatch(/^ {4}-if \[ no = yes \]; then$/m);
    expect(check.stdout).toMatch(/^ {4}\+if \[ yes = yes \]; then$/m);
    const probe = await cli(['why', 'probe', '--work', work, '--set', 'fail=yes']);
    expect(probe.stdout).toContain('probe [run in demo]: unchanged since it finished');
    // Unchanged, but after the changed step: resume runs it again, and why says so.
    const pack = await cli(['why', 'pack', '--work', work, '--set', 'fail=yes']);
    expect(pack.stdout).toContain('pack [pack in demo]: unchanged since it finished');
    expect(pack.stdout).toContain('It still runs again on resume: resume starts at check (step check changed in the recipe since it ran), before it');

    const unknown = await cli(['why', 'nosuchstep', '--work', work]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('recipe demo has no step nosuchstep');

    // A journal from before the inputs were recorded: why cannot tell, and prints the inputs now.
    const journal = join(work, 'journal.jsonl');
    const old = readFileSync(journal, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const { inputs: _inputs, texts: _texts, ...event } = JSON.parse(line);
        return JSON.stringify(event);
      });
    writeFileSync(journal, old.join('\n') + '\n');
    const older = await cli(['why', 'check', '--work', work, '--set', 'fail=yes']);
    expect(older.exitCode).toBe(0);
    expect(older.stdout).toContain('but the journal does not say which input');
    expect(older.stdout).toMatch(/^ {2}script {2}[0-9a-f]{16}$/m);
  });
});
