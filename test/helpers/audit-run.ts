import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildProvenance, describeJournal, writeProvenance } from '../../src/audit/provenance.js';
import { JOURNAL_VERSION, JournalWriter } from '../../src/engine/journal.js';
import { makeTarball } from './audit-archives.js';

const sha = (algorithm: string, data: Buffer | string) => createHash(algorithm).update(data);
export const sri = (data: Buffer) =>
  `sha512-${sha('sha512', data).digest('base64')} blake2b512-${sha('blake2b512', data).digest('base64')}`;

export interface SyntheticRun {
  workDir: string;
  stagePath: string;
  provenancePath: string;
  lockPath: string;
  journalPath: string;
  logs: string[];
}

/**
 * A finished run as the runner leaves it, written with the engine's own journal writer: two
 * steps (the first used a distfile, the second packed a seed with its .DIGESTS), logs, a lock
 * pinning the distfile, and the provenance document written before run-finished.
 */
export async function makeSyntheticRun(dir: string, options: { packages?: string[]; startingPointEntry?: string } = {}): Promise<SyntheticRun> {
  const workDir = join(dir, 'work');
  const outDir = join(dir, 'out');
  mkdirSync(join(workDir, 'logs'), { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const recipePath = join(dir, 'recipe.yaml');
  writeFileSync(recipePath, 'name: demo\nversion: 1\nsteps: []\n');
  const distfile = makeTarball(join(dir, 'hello-1.0.tar.gz'), { 'hello.c': 'int main(void) { return 0; }\n' }, 'hello-1.0');
  const distfileBytes = readFileSync(distfile);
  const lockPath = join(dir, 'distfiles.lock');
  writeFileSync(lockPath, `${JSON.stringify({
    lockfileVersion: 1,
    distfiles: {
      'hello-1.0.tar.gz': { size: distfileBytes.length, integrity: sri(distfileBytes), urls: ['https://example.org/hello-1.0.tar.gz'], kind: 'source', from: 'test' },
    },
  }, null, 2)}\n`);

  const vdb = Object.fromEntries((options.packages ?? ['sys-apps/busybox-1.36.1']).map((p) => [`var/db/pkg/${p}/CONTENTS`, 'obj /bin/busybox 0 0\n']));
  const stagePath = makeTarball(join(outDir, 'stage3-i686-seed.tar.xz'), { 'etc/os-release': 'NAME=seed\n', ...vdb }, '.');
  const stageBytes = readFileSync(stagePath);
  writeFileSync(`${stagePath}.DIGESTS`, `# BLAKE2B HASH\n${sha('blake2b512', stageBytes).digest('hex')}  stage3-i686-seed.tar.xz\n# SHA512 HASH\n${sha('sha512', stageBytes).digest('hex')}  stage3-i686-seed.tar.xz\n`);
  const digestsBytes = readFileSync(`${stagePath}.DIGESTS`);

  const journal = JournalWriter.open(workDir);
  const runId = randomUUID();
  const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const recipeDigest = sha('sha256', readFileSync(recipePath)).digest('hex');
  journal.append({ type: 'run-started', tool: 'bootstrap', journalVersion: JOURNAL_VERSION, time: t(0), runId, recipe: { name: 'demo', version: '1', path: recipePath, digest: recipeDigest }, params: { jobs: '2' }, given: { jobs: '2' }, steps: ['unpack', 'pack'] });
  const logs: string[] = [];
  const steps = [
    { id: 'unpack', fingerprint: 'f'.repeat(64), outcome: { distfiles: { 'hello-1.0.tar.gz': sri(distfileBytes) } } },
    { id: 'pack', fingerprint: 'e'.repeat(64), outcome: { artifacts: [
      { path: stagePath, integrity: sri(stageBytes), size: stageBytes.length },
      { path: `${stagePath}.DIGESTS`, integrity: sri(digestsBytes), size: digestsBytes.length },
    ] } },
  ];
  for (const [i, step] of steps.entries()) {
    const log = join(workDir, 'logs', `00${i + 1}-${step.id}.1.log`);
    writeFileSync(log, `running ${step.id}\ndone\n`);
    logs.push(log);
    journal.append({ type: 'step-started', time: t(10 * i + 1), step: step.id, attempt: 1, fingerprint: step.fingerprint, log });
    journal.append({ type: 'step-finished', time: t(10 * i + 9), step: step.id, attempt: 1, fingerprint: step.fingerprint, durationMs: 8000, log, logDigest: sha('sha256', readFileSync(log)).digest('hex'), outcome: step.outcome });
  }
  const provenancePath = join(outDir, 'provenance.json');
  await writeProvenance(provenancePath, buildProvenance({
    recipe: { name: 'demo', version: '1', path: recipePath, digest: recipeDigest },
    params: { jobs: '2' },
    runId,
    startedAt: t(0),
    finishedAt: t(20),
    steps: steps.map((s, i) => ({ id: s.id, fingerprint: s.fingerprint, durationMs: 8000, log: logs[i]!, logDigest: sha('sha256', readFileSync(logs[i]!)).digest('hex') })),
    distfiles: [{ name: 'hello-1.0.tar.gz', integrity: sri(distfileBytes), urls: ['https://example.org/hello-1.0.tar.gz'] }],
    startingPoint: { name: 'live-bootstrap target', digest: { sha256: sha('sha256', 'steps manifest').digest('hex') }, lockEntry: options.startingPointEntry ?? 'hello-1.0.tar.gz' },
    artifacts: steps[1]!.outcome.artifacts!,
    journal: await describeJournal(workDir),
  }));
  journal.append({ type: 'run-finished', time: t(21), documents: [provenancePath] });
  journal.close();
  return { workDir, stagePath, provenancePath, lockPath, journalPath: join(workDir, 'journal.jsonl'), logs };
}

/** Flips one byte of a file in place (at `offset`, default the middle). */
export function flipByte(path: string, offset?: number): void {
  const bytes = readFileSync(path);
  const at = offset ?? Math.floor(bytes.length / 2);
  bytes[at] = bytes[at]! ^ 0x01;
  writeFileSync(path, bytes);
}
