// Runner benchmark: the orchestrator's own overhead per step (medians of several runs; needs
// root for the chroot part), and the read-only commands against Node's own start-up: `bootstrap
// status` on a journal of 100 finished steps and `bootstrap plan` of a 100-step recipe, each in
// pairs with `node -e 0` (bench/lib/paired.js). Goals (issue 15): status ≤ 2.5 × and plan ≤ 3 ×
// the Node floor.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, copyFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, paired, verdict } from './lib/paired.js';

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

  // status on the journal of a real run of 100 host steps (about a second), as a user has it:
  // the journal, the logs and the parsed recipe the run keeps in its work directory.
  const steps = Array(100).fill('host');
  const dir = recipe(join(base, 'recipe-100'), steps, root);
  const work = join(base, 'work-100');
  time(['run', '--recipe', dir, '--work', work, '--plain']);
  const env = { ...process.env, CI: 'true', NO_COLOR: '1' };
  const floor = { label: 'node -e 0', run: () => measure([process.execPath, '-e', '0'], { cpu: false }) };
  const status = await paired({ title: 'bootstrap status, 100-step journal', baseline: floor, candidate: { label: 'bootstrap status', run: () => measure([process.execPath, cli, 'status', '--work', work], { env, cpu: false }) } });
  verdict(`status ≤ 2.5 × node -e 0 (median ratio ${status.ratio.median.toFixed(2)})`, status.ratio.median <= 2.5);
  const planned = await paired({ title: 'bootstrap plan, 100-step recipe, of the run in --work', baseline: floor, candidate: { label: 'bootstrap plan', run: () => measure([process.execPath, cli, 'plan', '--recipe', dir, '--work', work], { env, cpu: false }) } });
  verdict(`plan ≤ 3 × node -e 0 (median ratio ${planned.ratio.median.toFixed(2)})`, planned.ratio.median <= 3);
  // A plan before any run: no parsed recipe kept yet, so the YAML is parsed, cold.
  const first = await paired({ title: 'bootstrap plan, 100-step recipe, before any run', baseline: floor, candidate: { label: 'bootstrap plan', run: () => measure([process.execPath, cli, 'plan', '--recipe', dir, '--work', join(base, 'work-none')], { env, cpu: false }) } });
  verdict(`plan before a run ≤ 3 × node -e 0 (median ratio ${first.ratio.median.toFixed(2)})`, first.ratio.median <= 3);
  // What neither command can go below while it parses its options with yargs and reads the
  // recipe with yaml and zod: the three libraries, bundled as bin/build.js bundles the CLI (yaml
  // from its ES module build, as there), imported and nothing done with them (kept alive so the
  // bundler drops none of them).
  const { build } = await import('esbuild');
  const yamlModule = fileURLToPath(new URL('../node_modules/yaml/browser/index.js', import.meta.url));
  const yamlPlugin = { name: 'yaml-es-module', setup: (b) => b.onResolve({ filter: /^yaml$/ }, () => ({ path: yamlModule })) };
  const libraries = join(base, 'libraries.js');
  writeFileSync(join(base, 'libraries-entry.js'), "import yargs from 'yargs'; import * as yaml from 'yaml'; import * as z from 'zod'; globalThis.keep = [yargs, yaml.parseDocument, z.object, z.string];\n");
  await build({ entryPoints: [join(base, 'libraries-entry.js')], nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))], bundle: true, format: 'esm', platform: 'node', target: 'node20', minify: true, outfile: libraries, plugins: [yamlPlugin], logLevel: 'warning', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  await paired({ title: 'yargs, yaml and zod imported alone (bundled)', baseline: floor, candidate: { label: 'import yargs, yaml, zod', run: () => measure([process.execPath, libraries], { cpu: false }) } });
} finally {
  rmSync(base, { recursive: true, force: true });
}
