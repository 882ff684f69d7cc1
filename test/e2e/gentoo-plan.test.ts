import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { gentooProfilesRepo, needsGentooProfiles, tempDir } from '../helpers/env.js';

// Sealed: the shipped lock pins every input (Portage and squashfs-tools by Gentoo's Manifests, the
// repository snapshot by Gentoo's signature), so a sealed plan goes ahead; plan fetches nothing.
const BASE = ['plan', '--recipe', 'gentoo-2025', '--work', '/var/tmp/bootstrap-plan-test', '--jobs', '4', '--load', '4'];

interface PlanJson {
  parameters: Record<string, { value: string; source: string }>;
  roots: Record<string, { path: string; shell: string[] }>;
  phases: Array<{ id: string; steps: Array<{ id: string; kind: string; root: string; fingerprint: string; detail: Record<string, unknown>; summary: string[] }> }>;
}

/** What a step does, without digests or host paths: the script, the files, the list, the kind's own fields. */
function command(step: PlanJson['phases'][number]['steps'][number]): unknown {
  const d = step.detail;
  switch (step.kind) {
    case 'run':
      return { script: d.script, env: d.env, cwd: d.cwd };
    case 'emerge':
      return { script: d.script, env: d.env };
    case 'write':
      return { files: (d.files as Array<{ path: string; mode: string }>).map((f) => `${f.path} ${f.mode}`) };
    case 'distfiles':
      return { dir: d.dir, files: Object.keys(d.files as object), fetch_command: d.fetch_command };
    case 'packages-build':
      return d;
    default:
      return Object.fromEntries(Object.entries(d).filter(([k]) => ['out', 'exclude', 'compress', 'storedir', 'target_root_path'].includes(k)));
  }
}

describe('bootstrap plan --recipe gentoo-2025', () => {
  let dir: { path: string; remove: () => void } | undefined;
  afterEach(() => dir?.remove());

  it('shows the whole chain: phases, steps, roots and commands (snapshot)', async () => {
    const result = await cli([...BASE, '--json']);
    expect(result.stderr).toBe('');
    // No --target: phase 0 builds live-bootstrap from the lock into the work directory, and a
    // sealed run would go ahead (the shipped lock pins live-bootstrap 1.0 and its sources too).
    expect(result.exitCode).toBe(0);
    const plan = JSON.parse(result.stdout) as PlanJson;
    const projection = {
      roots: plan.roots,
      phases: plan.phases.map((p) => ({ id: p.id, steps: p.steps.map((s) => ({ id: s.id, kind: s.kind, root: s.root, command: command(s) })) })),
    };
    await expect(JSON.stringify(projection, null, 2) + '\n').toMatchFileSnapshot('../fixtures/gentoo-rehearsal/plan.snapshot.json');
    const ids = plan.phases.flatMap((p) => p.steps.map((s) => s.id));
    expect(ids.slice(0, 2)).toEqual(['live-bootstrap', 'check-target']);
    expect(ids.indexOf('packages-build')).toBeLessThan(ids.indexOf('cross-packages-build'));
    expect(ids.slice(-3)).toEqual(['pack-seed', 'place-releng', 'handoff']);
    expect(plan.parameters.target).toEqual({ value: '/var/tmp/bootstrap-plan-test/live-bootstrap/target', source: 'default' });
    // Detected once phase 0 has built the target; live-bootstrap 1.0's triplet until then.
    expect(plan.parameters.lb_chost).toEqual({ value: 'i386-unknown-linux-musl', source: 'deferred' });
    // Nothing interactive, no sync, no curl -k, no per-step /tmp state.
    const scripts = plan.phases.flatMap((p) => p.steps).filter((s) => s.kind === 'run').map((s) => String(s.detail.script));
    for (const script of scripts) {
      expect(script).not.toMatch(/--ask|emerge -a|emaint|--sync|curl|(?<!\/var)\/tmp\//);
    }
  });

  it('--repo DIR prints the packages.build list of the profile before anything runs', async (ctx) => {
    needsGentooProfiles(ctx);
    const repo = gentooProfilesRepo;
    const result = await cli([...BASE, '--repo', repo]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^A run would go ahead: 54 steps\./);
    const lines = result.stdout.split('\n').map((l) => l.trim());
    const at = lines.findIndex((l) => l === `packages.build from ${repo} (35 atoms):`);
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 4)).toEqual(['app-admin/eselect', 'app-arch/bzip2', 'app-arch/gzip']);
    expect(lines[at + 35]).toBe('virtual/pkgconfig');
    // The preview changes what plan shows, never the step's fingerprint.
    const withRepo = JSON.parse((await cli([...BASE, '--repo', repo, '--json'])).stdout) as PlanJson;
    const without = JSON.parse((await cli([...BASE, '--json'])).stdout) as typeof withRepo;
    const fp = (p: typeof withRepo) => p.phases.flatMap((ph) => ph.steps).find((s) => s.id === 'packages-build')!.fingerprint;
    expect(fp(withRepo)).toBe(fp(without));
  });

  it('a missing profile in --repo is one clear error', async () => {
    dir = tempDir('bootstrap-plan-');
    mkdirSync(join(dir.path, 'profiles'));
    const result = await cli([...BASE, '--repo', dir.path]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('profile default/linux/amd64/23.0 not found');
  });

  it('detects the triplet of an i686 live-bootstrap target', async () => {
    dir = tempDir('bootstrap-plan-');
    mkdirSync(join(dir.path, 'usr/libexec/gcc/i686-unknown-linux-musl'), { recursive: true });
    const result = await cli([...BASE, '--target', dir.path, '--json']);
    expect(result.exitCode).toBe(0);
    const plan = JSON.parse(result.stdout) as PlanJson & { omitted: Array<{ id: string; reason: string }> };
    expect(plan.omitted).toEqual([{ id: 'live-bootstrap', title: expect.any(String), reason: `target is given (${dir.path})` }]);
    expect(plan.phases[0]!.id).toBe('host');
    expect(plan.parameters.lb_chost).toEqual({ value: 'i686-unknown-linux-musl', source: 'detected' });
    const gentooCfg = plan.phases.flatMap((p) => p.steps).find((s) => s.id === 'cross-wrappers')!;
    expect(gentooCfg.summary.join('\n')).toContain('/cross/usr/bin/x86_64-bootstrap-linux-gnu-gcc');
  });
});
