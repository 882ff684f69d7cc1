import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A run of a long chain on disk, without running it: a recipe (steps are planned, never run), a
 * journal with the times a real chain could have, and the root's emerge.log with one merge per
 * package, spread over the emerge steps' attempts. Used where the real chain is too slow.
 */
export interface SyntheticOptions {
  phases: number;
  stepsPerPhase: number;
  /** Every `emergeEvery`-th step is an emerge step. */
  emergeEvery: number;
  packages: number;
  /** Stop the journal inside the last emerge step, as a run still going does. */
  stillGoing?: boolean;
  /** A torn line in the middle of emerge.log and one cut off at its end. */
  tornLog?: boolean;
  /** When the run started (epoch ms). */
  start?: number;
}

export interface SyntheticRun {
  recipe: string;
  work: string;
  root: string;
  emergeLog: string;
  steps: Array<{ id: string; kind: string; attempts: Array<{ durationMs: number; exitCode?: number }> }>;
  /** Package name → merge duration in ms, as the log says. */
  packages: Map<string, number>;
  failedPackage: string;
}


export function syntheticRun(dir: string, options: SyntheticOptions): SyntheticRun {
  const root = join(dir, 'root');
  const work = join(dir, 'work');
  mkdirSync(join(root, 'var/log'), { recursive: true });
  mkdirSync(work, { recursive: true });
  const phases: string[] = [];
  const steps: SyntheticRun['steps'] = [];
  for (let p = 0; p < options.phases; p++) {
    const lines = [`  - id: phase-${p}`, `    title: Phase ${p} <of the chain> & more`, '    steps:'];
    for (let s = 0; s < options.stepsPerPhase; s++) {
      const index = p * options.stepsPerPhase + s;
      const emerge = index % options.emergeEvery === options.emergeEvery - 1;
      const id = `${emerge ? 'emerge' : 'step'}-${p}-${s}`;
      steps.push({ id, kind: emerge ? 'emerge' : 'run', attempts: [] });
      lines.push(`      - id: ${id}`, emerge ? '        kind: emerge\n        root: chain\n        args: [-1, sys-apps/placeholder]' : '        kind: run\n        root: host\n        script: "true"');
    }
    phases.push(lines.join('\n'));
  }
  const recipe = join(dir, 'recipe.yaml');
  writeFileSync(
    recipe,
    `name: synthetic-chain\nversion: 1\ndescription: A long chain, planned but never run\nparameters:\n  target:\n    type: directory\nroots:\n  chain:\n    path: "{{target}}"\nphases:\n${phases.join('\n')}\n`,
  );

  // Times: run steps take 5 s to 4 min; emerge steps take as long as their packages.
  const emergeSteps = steps.filter((s) => s.kind === 'emerge');
  const perStep = Math.ceil(options.packages / emergeSteps.length);
  const journal: object[] = [];
  const log: string[] = [];
  const packages = new Map<string, number>();
  let t = options.start ?? Date.UTC(2025, 0, 10, 6, 0, 0);
  const iso = (ms: number) => new Date(ms).toISOString();
  journal.push({ type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: iso(t), runId: 'synthetic-0001', recipe: { name: 'synthetic-chain', version: '1', path: recipe, digest: '0'.repeat(64) }, params: { target: root }, given: { target: root }, steps: steps.map((s) => s.id) });
  let pkg = 0;
  let failedPackage = '';
  // The middle emerge step fails once, its last package unmerged, and is resumed the next morning.
  const failAt = steps.indexOf(emergeSteps[Math.floor(emergeSteps.length / 2)]!);
  const lastEmerge = emergeSteps.at(-1)!;
  for (const [i, step] of steps.entries()) {
    const tries = i === failAt ? 2 : 1;
    for (let attempt = 1; attempt <= tries; attempt++) {
      const failing = attempt < tries;
      t = Math.ceil(t / 1000) * 1000 + 1000;
      const start = t;
      const stepLog = join(work, 'logs', `${String(i + 1).padStart(3, '0')}-${step.id}.${attempt}.log`);
      journal.push({ type: 'step-started', time: iso(start), step: step.id, attempt, fingerprint: 'f', log: stepLog });
      if (step.kind === 'emerge') {
        const going = options.stillGoing === true && step === lastEmerge;
        const count = Math.max(going ? 1 : 0, Math.min(perStep, options.packages - pkg));
        log.push(`${start / 1000}: Started emerge on: ${iso(start)}`, `${start / 1000}:  *** emerge --oneshot sys-apps/placeholder`);
        let at = start / 1000 + 1;
        for (let k = 1; k <= count; k++, pkg++) {
          const name = `cat-${pkg % 40}/package-number-${pkg}-${1 + (pkg % 7)}.${pkg % 13}`;
          // Mostly a minute or less; now and then a compiler-sized one.
          const took = pkg % 97 === 0 ? 900 + (pkg % 5) * 700 : 5 + ((pkg * 7919) % 60);
          log.push(`${at}:  >>> emerge (${k} of ${count}) ${name}::gentoo to /`);
          log.push(`${at}:  === (${k} of ${count}) Compiling/Merging (${name}::/var/db/repos/gentoo/${name}.ebuild)`);
          if (failing && k === count) {
            log.push(`${at + took}:  *** exiting unsuccessfully with status '1'.`);
            failedPackage = name;
            at += took;
            break;
          }
          if (going && k === count) {
            packages.set(name, -1);
            at += took;
            break;
          }
          log.push(`${at + took}:  ::: completed emerge (${k} of ${count}) ${name} to /`);
          packages.set(name, took * 1000);
          at += took + 1;
          if (options.tornLog && pkg === 10) log.push('17369');
        }
        if (!failing && !going) log.push(`${at}:  *** exiting successfully.`);
        t = at * 1000 + 500;
      } else {
        t = start + 5000 + ((i * 104729) % 240_000);
      }
      if (options.stillGoing && step === lastEmerge) {
        step.attempts.push({ durationMs: -1 });
        writeFileSync(join(work, 'journal.jsonl'), `${journal.map((e) => JSON.stringify(e)).join('\n')}\n`);
        writeFileSync(join(root, 'var/log/emerge.log'), `${log.join('\n')}\n${options.tornLog ? `${Math.floor(t / 1000)}:  >>> emerge (9 of` : ''}`);
        return { recipe, work, root, emergeLog: join(root, 'var/log/emerge.log'), steps: steps.filter((s) => s.attempts.length), packages, failedPackage };
      }
      const durationMs = t - start;
      if (failing) {
        journal.push({ type: 'step-failed', time: iso(t), step: step.id, attempt, fingerprint: 'f', log: stepLog, durationMs, exitCode: 1, message: 'exit 1', tail: [] });
        step.attempts.push({ durationMs, exitCode: 1 });
        // A night between the failure and its fix.
        t += 10 * 3600_000;
        journal.push({ type: 'run-resumed', time: iso(t), from: step.id, given: {}, steps: steps.map((s) => s.id) });
      } else {
        journal.push({ type: 'step-finished', time: iso(t), step: step.id, attempt, fingerprint: 'f', log: stepLog, durationMs, logDigest: '0', outcome: {} });
        step.attempts.push({ durationMs });
      }
    }
  }
  journal.push({ type: 'run-finished', time: iso(t + 100), documents: [] });
  writeFileSync(join(work, 'journal.jsonl'), `${journal.map((e) => JSON.stringify(e)).join('\n')}\n`);
  writeFileSync(join(root, 'var/log/emerge.log'), `${log.join('\n')}\n`);
  return { recipe, work, root, emergeLog: join(root, 'var/log/emerge.log'), steps, packages, failedPackage };
}
