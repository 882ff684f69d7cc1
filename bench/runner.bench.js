// Runner benchmark: the orchestrator's own overhead per step, and `bootstrap status` on a
// journal of 100 steps. Medians of several runs. Needs root for the chroot part.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
const base = mkdtempSync('/var/tmp/bootstrap-bench-runner-');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const time = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
  if (r.status !== 0) throw new Error(`bootstrap ${args.join(' ')} failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
};

function recipe(dir, steps, root) {
  mkdirSync(dir, { recursive: true });
  const lines = ['name: bench', 'version: 1', 'description: benchmark', 'roots:', `  r: { path: "${root}", shell: [/bin/sh] }`, 'phases:', '  - id: p', '    steps:'];
  for (let i = 0; i < steps.length; i++) lines.push(`      - { id: s${i}, kind: run, root: ${steps[i]}, script: "true" }`);
  writeFileSync(join(dir, 'recipe.yaml'), lines.join('\n') + '\n');
  return dir;
}

try {
  const startup = median(Array.from({ length: 5 }, () => time(['--version'])));
  console.log(`node + CLI start-up (bootstrap --version): ${startup.toFixed(0)} ms`);

  const isRoot = process.getuid?.() === 0;
  const N = 20;
  const kinds = isRoot ? ['host', 'r'] : ['host'];
  if (!isRoot) console.log('not root: chroot steps skipped (run the bench as root to measure the sandbox)');
  const root = join(base, 'root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(root, 'bin/busybox'));
  symlinkSync('busybox', join(root, 'bin/sh'));
  symlinkSync('busybox', join(root, 'bin/true'));
  for (const kind of kinds) {
    const walls = [];
    const perStep = [];
    for (let rep = 0; rep < 3; rep++) {
      const work = join(base, `work-${kind}-${rep}`);
      const dir = recipe(join(base, `recipe-${kind}`), Array(N).fill(kind), root);
      const wall = time(['run', '--recipe', dir, '--work', work, '--plain']);
      const events = readFileSync(join(work, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const durations = events.filter((e) => e.type === 'step-finished').map((e) => e.durationMs);
      walls.push(wall);
      perStep.push(median(durations));
      const inSteps = durations.reduce((a, b) => a + b, 0);
      if (rep === 0) console.log(`  (${kind}) wall ${wall.toFixed(0)} ms, in steps ${inSteps} ms`);
    }
    const wall = median(walls);
    const step = median(perStep);
    const overhead = (wall - startup - step * N) / N;
    console.log(`${kind === 'host' ? 'host' : 'chroot'} steps running \`true\`: median step ${step} ms (process tree${kind === 'host' ? '' : ', namespaces and mounts'}); orchestrator overhead ${overhead.toFixed(1)} ms per step (journal fsync, log file, progress) beyond start-up`);
  }

  // status on a journal of 100 finished steps
  const steps = Array(100).fill('host');
  const dir = recipe(join(base, 'recipe-100'), steps, root);
  const work = join(base, 'work-100');
  mkdirSync(join(work, 'logs'), { recursive: true });
  const plan = JSON.parse(execFileSync(process.execPath, [cli, 'plan', '--recipe', dir, '--work', work, '--json'], { encoding: 'utf8' }));
  const ids = plan.phases.flatMap((p) => p.steps);
  const params = Object.fromEntries(Object.entries(plan.parameters).map(([k, v]) => [k, v.value]));
  const events = [{ type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: new Date().toISOString(), runId: 'bench', recipe: { ...plan.recipe }, params, given: {}, steps: ids.map((s) => s.id) }];
  for (const s of ids) {
    events.push({ type: 'step-started', time: '', step: s.id, attempt: 1, fingerprint: s.fingerprint, log: join(work, 'logs', s.id) });
    events.push({ type: 'step-finished', time: '', step: s.id, attempt: 1, fingerprint: s.fingerprint, durationMs: 1000, log: join(work, 'logs', s.id), logDigest: '0', outcome: {} });
  }
  writeFileSync(join(work, 'journal.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  const status = median(Array.from({ length: 7 }, () => time(['status', '--work', work])));
  console.log(`bootstrap status on a 100-step journal: ${status.toFixed(0)} ms median of 7 (start-up included)`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
