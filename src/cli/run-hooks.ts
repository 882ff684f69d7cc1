import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { buildProvenance, describeJournal, PROVENANCE_FILE, writeProvenance, type ProvenanceInput } from '../audit/provenance.js';
import { readLock } from '../distfiles/read-lock.js';
import { collectRecorded } from '../distfiles/record.js';
import { foldJournal } from '../engine/fold-journal.js';
import { readJournal } from '../engine/journal.js';
import type { Plan } from '../engine/plan.js';
import type { RunHooks } from '../engine/runner.js';
import type { StepArtifact } from '../engine/step-kind.js';
import { resolveInRoot } from '../host/rooted-fs.js';
import type { KindOptions } from './engine-deps.js';

/**
 * What happens around the steps of a run: with --record, the fetches Portage made are added to
 * the lock after each step; at the end, a provenance document ties the produced seed to the
 * recipe, the parameters and every distfile used.
 */
export function runHooks(plan: Plan, work: string, options: KindOptions): RunHooks {
  return {
    ...(options.record ? { afterStep: (step) => collectAfter(plan, options, step.id) } : {}),
    afterRun: async () => [await writeRunProvenance(plan, work, options)],
  };
}

/** DISTDIRs per root, from the plan's distfiles steps. */
function distdirsByRoot(plan: Plan): Map<string, string[]> {
  const byRoot = new Map<string, string[]>();
  for (const step of plan.steps) {
    if (step.kind.name !== 'distfiles') continue;
    const dir = (step.spec as { dir: string }).dir;
    byRoot.set(step.root.path, [...new Set([...(byRoot.get(step.root.path) ?? []), dir])]);
  }
  return byRoot;
}

async function collectAfter(plan: Plan, options: KindOptions, stepId: string): Promise<void> {
  for (const [rootPath, distdirs] of distdirsByRoot(plan)) {
    const added = await collectRecorded({ rootPath, lockPath: options.lock, stepId, distdirs });
    if (added.length > 0) process.stderr.write(`recorded into ${options.lock}: ${added.join(', ')}\n`);
  }
}

async function writeRunProvenance(plan: Plan, work: string, options: KindOptions): Promise<string> {
  const state = foldJournal(readJournal(work)!.events)!;

  const artifacts: StepArtifact[] = [];
  const used = new Map<string, string>();
  const materials: NonNullable<ProvenanceInput['materials']> = [];
  const steps: ProvenanceInput['steps'] = [];
  for (const step of plan.steps) {
    const finished = state.steps.get(step.id)?.finished;
    if (!finished) continue;
    steps.push({ id: step.id, fingerprint: finished.fingerprint, durationMs: finished.durationMs, log: finished.log, logDigest: finished.logDigest });
    artifacts.push(...(finished.outcome.artifacts ?? []));
    for (const [name, integrity] of Object.entries(finished.outcome.distfiles ?? {})) used.set(name, integrity);
    materials.push(...(finished.outcome.materials ?? []));
  }
  const lock = used.size > 0 ? await readLock(options.lock) : undefined;
  const distfiles = [...used].map(([name, integrity]) => ({ name, integrity, urls: lock?.distfiles[name]?.urls ?? [] }));

  const seed = artifacts.find((a) => /\.tar(\.[a-z0-9]+)?$/.test(a.path));
  const path = join(seed ? dirname(seed.path) : work, PROVENANCE_FILE);
  const statement = buildProvenance({
    recipe: state.started.recipe,
    params: state.given,
    resolvedParams: plan.params.values,
    runId: state.started.runId,
    startedAt: state.started.time,
    finishedAt: new Date().toISOString(),
    steps,
    distfiles,
    materials,
    artifacts,
    ...(await startingPoint(plan)),
    journal: await describeJournal(work),
  });
  await writeProvenance(path, statement);
  return path;
}

async function startingPoint(plan: Plan): Promise<Pick<ProvenanceInput, 'startingPoint'>> {
  const declared = plan.recipe.file.starting_point;
  if (!declared) return {};
  const root = plan.roots[declared.root];
  const point: NonNullable<ProvenanceInput['startingPoint']> = { name: declared.name, ...(root ? { uri: `file://${root.path}` } : {}) };
  if (declared.lock_entry) point.lockEntry = declared.lock_entry;
  if (declared.note) point.note = declared.note;
  if (root && declared.file) {
    const bytes = await readFile(await resolveInRoot(root.path, declared.file)).catch(() => undefined);
    if (bytes) point.digest = { sha256: createHash('sha256').update(bytes).digest('hex') };
    else point.note = `${declared.file} was not found in ${root.path}; the starting point has no identity to offer`;
  }
  return { startingPoint: point };
}
