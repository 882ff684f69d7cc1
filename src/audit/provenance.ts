import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { hashFile } from '../distfiles/hash.js';
import { base64DigestToHex, type HashAlgorithm, parseIntegrity } from '../distfiles/integrity.js';
import type { LockEntry } from '../distfiles/lock-schema.js';
import { foldJournal, type RunState } from '../engine/fold-journal.js';
import { JOURNAL_FILE, readJournal, type JournalContents, type StepFinishedEvent } from '../engine/journal.js';
import { errnoCode, isBootstrapError } from '../util/errors.js';
import { toolVersion } from '../util/tool-version.js';
import type { Check, CheckStatus } from './report.js';

/**
 * Provenance of a run: an in-toto Statement v1 whose subject is the seed stage3 and whose
 * predicate is SLSA Provenance v1 (https://slsa.dev/provenance/v1). It ties the seed's digest
 * to the recipe (by digest), the parameters, every distfile digest, the starting point, and
 * each step's fingerprint and log digest, so `bootstrap audit` can recompute and compare.
 */

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** `buildType` names the recipe and its version: `urn:bootstrap:recipe:<name>:<version>`. */
const BUILD_TYPE_PREFIX = 'urn:bootstrap:recipe:';
const BUILDER_ID = 'urn:bootstrap:cli';
export const PROVENANCE_FILE = 'provenance.json';

/** What the runner knows at the end of a run; everything `buildProvenance` needs. */
export interface ProvenanceInput {
  recipe: {
    name: string;
    version: string;
    /** Absolute path of the recipe file. */
    path: string;
    /** sha256 hex of the recipe file's bytes. */
    digest: string;
  };
  /** Parameters as the user gave them (`--set`); resolved values go in `resolvedParams`. */
  params: Record<string, string>;
  /** Every parameter's final value, defaults included (optional). */
  resolvedParams?: Record<string, string>;
  /** The run's id from the journal (`run-started.runId`); becomes `invocationId`. */
  runId?: string;
  /** ISO 8601 times of the run's start (first run-started) and end. */
  startedAt: string;
  finishedAt: string;
  /** Finished steps in plan order. `logDigest` is sha256 hex of the log file, as the journal records it. */
  steps: Array<{ id: string; fingerprint: string; durationMs: number; log: string; logDigest: string }>;
  /** Every distfile a step used, with its lock integrity (SRI) and URLs. */
  distfiles: Array<{ name: string; integrity: string; urls: string[] }>;
  /** Other inputs named by a digest that is not a file hash, e.g. a source tree by git commit (StepOutcome.materials). */
  materials?: Array<{ name: string; uri?: string; digest: Record<string, string>; lockEntry?: string; path?: string }>;
  /**
   * What the chain started from: e.g. `{ name: 'live-bootstrap target', digest: { sha256: <hex of
   * its /steps/manifest> }, lockEntry: '<lock name of the live-bootstrap source>' }`. Leave the
   * digest out when the starting point has no identity to offer; the document then says so.
   */
  startingPoint?: { name: string; digest?: Record<string, string>; uri?: string; lockEntry?: string; note?: string };
  /** Files the run produced (absolute paths), with sha512 SRI integrity and size. */
  artifacts: Array<{ path: string; integrity: string; size: number }>;
  /**
   * Paths (among `artifacts`) that are the seed stage3 and so the statement's subject. Default:
   * the artifacts that are tarballs (`*.tar`, `*.tar.*`); the rest become byproducts.
   */
  subjects?: string[];
  /** The journal as it stood when the document was made (see `describeJournal`). */
  journal?: JournalSnapshot;
}

export interface JournalSnapshot {
  path: string;
  /** sha256 hex of the journal's first `bytes` bytes. */
  sha256: string;
  bytes: number;
}

export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  annotations?: Record<string, unknown>;
}

export interface SlsaProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters?: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata: { invocationId?: string; startedOn: string; finishedOn: string };
    byproducts: ResourceDescriptor[];
  };
}

export interface InTotoStatement {
  _type: typeof STATEMENT_TYPE;
  subject: Array<{ name: string; digest: Record<string, string> }>;
  predicateType: typeof SLSA_PROVENANCE_V1;
  predicate: SlsaProvenance;
}

/** in-toto digest-set names for the lock's algorithms (in-toto calls BLAKE2b-512 `blake2b`). */
const IN_TOTO_ALGORITHM: Record<HashAlgorithm, string> = { sha512: 'sha512', blake2b512: 'blake2b', sha384: 'sha384', sha256: 'sha256' };

/** An SRI string as an in-toto digest set in hex. */
export function integrityToDigestSet(integrity: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [algorithm, base64] of Object.entries(parseIntegrity(integrity))) {
    out[IN_TOTO_ALGORITHM[algorithm as HashAlgorithm]] = base64DigestToHex(base64!);
  }
  return out;
}

/** Algorithms both digest sets have, and those among them whose digests differ. */
export function compareDigestSets(a: Record<string, string>, b: Record<string, string>): { shared: string[]; differs: string[] } {
  const shared = Object.keys(a).filter((algorithm) => b[algorithm] !== undefined);
  return { shared, differs: shared.filter((algorithm) => a[algorithm] !== b[algorithm]) };
}

const IS_TARBALL = /\.tar(\.\w+)?$/;

export function buildProvenance(input: ProvenanceInput): InTotoStatement {
  const subjectPaths = new Set(input.subjects ?? input.artifacts.filter((a) => IS_TARBALL.test(a.path)).map((a) => a.path));
  const subjects = input.artifacts.filter((a) => subjectPaths.has(a.path));
  const sidecars = input.artifacts.filter((a) => !subjectPaths.has(a.path));

  const dependencies: ResourceDescriptor[] = input.distfiles.map((d) => ({
    name: d.name,
    ...(d.urls[0] ? { uri: d.urls[0] } : {}),
    digest: integrityToDigestSet(d.integrity),
    annotations: { kind: 'distfile', integrity: d.integrity, urls: d.urls },
  }));
  for (const m of input.materials ?? []) {
    dependencies.push({
      name: m.name,
      ...(m.uri ? { uri: m.uri } : {}),
      digest: m.digest,
      annotations: { kind: 'material', ...(m.lockEntry ? { lockEntry: m.lockEntry } : {}), ...(m.path !== undefined ? { path: m.path } : {}) },
    });
  }
  if (input.startingPoint) {
    const s = input.startingPoint;
    dependencies.push({
      name: s.name,
      ...(s.uri ? { uri: s.uri } : {}),
      ...(s.digest ? { digest: s.digest } : {}),
      annotations: {
        kind: 'starting-point',
        ...(s.lockEntry ? { lockEntry: s.lockEntry } : {}),
        ...(s.digest ? {} : { note: s.note ?? 'the starting point offered no digest' }),
        ...(s.note && s.digest ? { note: s.note } : {}),
      },
    });
  }

  const byproducts: ResourceDescriptor[] = input.steps.map((step) => ({
    name: `step:${step.id}`,
    uri: `file://${step.log}`,
    digest: { sha256: step.logDigest },
    annotations: { kind: 'step', step: step.id, fingerprint: step.fingerprint, durationMs: step.durationMs, log: step.log },
  }));
  for (const a of sidecars) {
    byproducts.push({ name: basename(a.path), uri: `file://${a.path}`, digest: integrityToDigestSet(a.integrity), annotations: { kind: 'artifact', size: a.size } });
  }
  if (input.journal) {
    byproducts.push({
      name: 'journal',
      uri: `file://${input.journal.path}`,
      digest: { sha256: input.journal.sha256 },
      annotations: { kind: 'journal', bytes: input.journal.bytes },
    });
  }

  return {
    _type: STATEMENT_TYPE,
    subject: subjects.map((a) => ({ name: basename(a.path), digest: { sha512: integrityToDigestSet(a.integrity).sha512! } })),
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: `${BUILD_TYPE_PREFIX}${input.recipe.name}:${input.recipe.version}`,
        externalParameters: {
          recipe: { name: input.recipe.name, version: input.recipe.version, path: input.recipe.path, digest: { sha256: input.recipe.digest } },
          parameters: input.params,
        },
        ...(input.resolvedParams ? { internalParameters: { resolvedParameters: input.resolvedParams } } : {}),
        resolvedDependencies: dependencies,
      },
      runDetails: {
        builder: { id: BUILDER_ID, version: { bootstrap: toolVersion() } },
        metadata: { ...(input.runId ? { invocationId: input.runId } : {}), startedOn: input.startedAt, finishedOn: input.finishedAt },
        byproducts,
      },
    },
  };
}

/** Writes the statement (2-space JSON, trailing newline) atomically: temporary name, then rename. */
export async function writeProvenance(path: string, statement: InTotoStatement): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(statement, null, 2)}\n`, { mode: 0o644 });
}

/** The journal's digest and length now; the runner puts it in the provenance before `run-finished`. */
export async function describeJournal(workDir: string): Promise<JournalSnapshot> {
  const path = join(resolve(workDir), JOURNAL_FILE);
  const bytes = await readFile(path);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

export interface VerifyOptions {
  provenancePath: string;
  /** The run's work directory: journal and step logs are compared with the document. */
  workDir?: string;
  /** The seed on disk; by default each subject is looked for beside the provenance file. */
  stagePath?: string;
  /** Lock entries by name: every distfile in the document must be there with the same digests. */
  lock?: ReadonlyMap<string, LockEntry>;
  /** The journal of `workDir` as the caller already read and folded it: not read again. */
  journal?: { contents: JournalContents; state: RunState };
  /** sha512 hex of files already hashed (by absolute path), e.g. by auditStage: not hashed again. */
  knownSha512?: ReadonlyMap<string, string>;
}

async function sha(path: string, algorithm: 'sha512' | 'sha256'): Promise<string> {
  const { digests } = await hashFile(path, [algorithm]);
  return base64DigestToHex(digests[algorithm]!);
}

/**
 * Recomputes what can be recomputed and compares it with the document: each subject's sha512
 * against the file, each step's fingerprint and log digest against the journal and the log on
 * disk, the journal's own digest, the recipe digest, and each distfile's digests against the
 * lock. Every mismatch is a failing check that says what differs.
 */
export async function verifyProvenance(options: VerifyOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const where = options.provenancePath;
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    checks.push({ section: 'provenance', subject, check, status, reason, ...(details ? { details } : {}) });

  let statement: InTotoStatement;
  try {
    statement = JSON.parse(await readFile(where, 'utf8')) as InTotoStatement;
  } catch (error) {
    const why = errnoCode(error) === 'ENOENT' ? 'does not exist' : `is not readable JSON (${(error as Error).message})`;
    add(where, 'document', 'fail', `the provenance document ${why}`);
    return checks;
  }
  const shapeProblem = describeShapeProblem(statement);
  if (shapeProblem) {
    add(where, 'document', 'fail', shapeProblem);
    return checks;
  }
  add(where, 'document', 'pass', `in-toto Statement v1, SLSA provenance v1, ${statement.predicate.buildDefinition.buildType}`);
  if (statement.subject.length === 0) {
    add(where, 'subject', 'warn', 'the document has no subject: the run reported no seed tarball, so nothing on disk is tied to it');
  }
  const predicate = statement.predicate;
  if (options.stagePath && !statement.subject.some((s) => s.name === basename(options.stagePath!))) {
    add(basename(options.stagePath), 'subject', 'fail', `the provenance has no subject named ${basename(options.stagePath)}`);
  }

  for (const subject of statement.subject) {
    const file = options.stagePath && basename(options.stagePath) === subject.name ? options.stagePath : join(dirname(where), subject.name);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      add(subject.name, 'subject', 'fail', `the seed ${file} is not there to compare with`);
      continue;
    }
    const found = options.knownSha512?.get(resolve(file)) ?? (await sha(file, 'sha512'));
    if (found === subject.digest.sha512) add(subject.name, 'subject', 'pass', `sha512 of ${file} matches`);
    else add(subject.name, 'subject', 'fail', `sha512 of ${file} differs from the provenance subject`, [`expected ${subject.digest.sha512}`, `found    ${found}`]);
  }

  if (options.workDir) await verifyAgainstWork(options.workDir, predicate, add, options.journal);
  if (options.lock) verifyAgainstLock(options.lock, predicate, add);
  return checks;
}

function describeShapeProblem(s: InTotoStatement): string | undefined {
  if (s === null || typeof s !== 'object') return 'is not a JSON object';
  if (s._type !== STATEMENT_TYPE) return `_type is ${JSON.stringify(s._type)}, expected ${STATEMENT_TYPE}`;
  if (s.predicateType !== SLSA_PROVENANCE_V1) return `predicateType is ${JSON.stringify(s.predicateType)}, expected ${SLSA_PROVENANCE_V1}`;
  if (!Array.isArray(s.subject)) return 'has no subject list';
  if (s.subject.some((x) => typeof x?.name !== 'string' || typeof x?.digest?.sha512 !== 'string')) return 'has a subject without a name and a sha512 digest';
  const p = s.predicate;
  if (typeof p?.buildDefinition?.buildType !== 'string' || !Array.isArray(p.buildDefinition.resolvedDependencies)) return 'has no buildDefinition with buildType and resolvedDependencies';
  if (!Array.isArray(p.runDetails?.byproducts)) return 'has no runDetails.byproducts';
  return undefined;
}

type Add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) => void;

async function verifyAgainstWork(workDir: string, predicate: SlsaProvenance, add: Add, read: VerifyOptions['journal']): Promise<void> {
  let journal: JournalContents | undefined = read?.contents;
  if (!read) {
    try {
      journal = readJournal(workDir);
    } catch (error) {
      if (!isBootstrapError(error)) throw error;
      add(join(workDir, JOURNAL_FILE), 'journal', 'fail', error.message);
      return;
    }
  }
  if (!journal) {
    add(workDir, 'journal', 'fail', `no ${JOURNAL_FILE} in ${workDir} to compare the provenance with`);
    return;
  }
  const byproducts = predicate.runDetails.byproducts;

  const snapshot = byproducts.find((b) => b.annotations?.kind === 'journal');
  if (snapshot) {
    const bytes = Number(snapshot.annotations?.bytes);
    const text = await readFile(journal.path);
    const prefixDigest = createHash('sha256').update(text.subarray(0, bytes)).digest('hex');
    const rest = text.subarray(bytes).toString('utf8').split('\n').filter(Boolean);
    const restIsFinish = rest.every((line) => {
      try {
        return (JSON.parse(line) as { type?: string }).type === 'run-finished';
      } catch {
        return false;
      }
    });
    if (text.length < bytes || prefixDigest !== snapshot.digest?.sha256) {
      add(journal.path, 'journal-digest', 'fail', `the journal's first ${bytes} bytes differ from when the provenance was written (edited after the run?)`,
        [`expected sha256 ${snapshot.digest?.sha256}`, `found    sha256 ${prefixDigest}`]);
    } else if (!restIsFinish) {
      add(journal.path, 'journal-digest', 'fail', 'the journal has events after the provenance was written other than run-finished');
    } else add(journal.path, 'journal-digest', 'pass', `sha256 of the journal as of the provenance matches (${bytes} bytes)`);
  }

  const state = read?.state ?? foldJournal(journal.events);
  if (state) {
    const recipe = (predicate.buildDefinition.externalParameters.recipe ?? {}) as { digest?: { sha256?: string } };
    if (recipe.digest?.sha256 !== state.started.recipe.digest) {
      add('recipe', 'recipe-digest', 'fail', 'the recipe digest in the provenance differs from the journal', [
        `provenance ${recipe.digest?.sha256}`, `journal    ${state.started.recipe.digest}`,
      ]);
    } else add('recipe', 'recipe-digest', 'pass', `${state.started.recipe.name} ${state.started.recipe.version}, sha256 ${state.started.recipe.digest.slice(0, 16)}…`);
    const given = state.given;
    const documented = (predicate.buildDefinition.externalParameters.parameters ?? {}) as Record<string, string>;
    const differing = [...new Set([...Object.keys(given), ...Object.keys(documented)])]
      .filter((key) => given[key] !== documented[key])
      .map((key) => `${key}: provenance ${JSON.stringify(documented[key])}, journal ${JSON.stringify(given[key])}`);
    if (predicate.runDetails.metadata.invocationId !== undefined && predicate.runDetails.metadata.invocationId !== state.started.runId) {
      differing.push(`invocationId: provenance ${predicate.runDetails.metadata.invocationId}, journal runId ${state.started.runId}`);
    }
    if (differing.length > 0) add('parameters', 'parameters', 'fail', 'the provenance describes another invocation than the journal', differing);
    else add('parameters', 'parameters', 'pass', `${Object.keys(given).length} given parameter${Object.keys(given).length === 1 ? '' : 's'} and the run id match the journal`);
    const recipeFile = state.started.recipe.path;
    const onDisk = await sha(recipeFile, 'sha256').catch(() => undefined);
    if (onDisk !== undefined && onDisk !== state.started.recipe.digest) {
      add('recipe', 'recipe-file', 'warn', `${recipeFile} has changed since the run (the run used sha256 ${state.started.recipe.digest.slice(0, 16)}…)`);
    }
  }

  const finishes = new Map<string, StepFinishedEvent>();
  for (const event of journal.events) if (event.type === 'step-finished') finishes.set(event.step, event);
  const documented = new Set<string>();
  for (const b of byproducts.filter((x) => x.annotations?.kind === 'step')) {
    const id = String(b.annotations?.step);
    documented.add(id);
    const finish = finishes.get(id);
    if (!finish) {
      add(id, 'step', 'fail', 'the provenance lists this step but the journal has no finish for it');
      continue;
    }
    const problems: string[] = [];
    if (finish.fingerprint !== b.annotations?.fingerprint) problems.push(`fingerprint: provenance ${String(b.annotations?.fingerprint)}, journal ${finish.fingerprint}`);
    if (finish.logDigest !== b.digest?.sha256) problems.push(`log digest: provenance ${b.digest?.sha256}, journal ${finish.logDigest}`);
    const logPath = String(b.annotations?.log ?? finish.log);
    const logDigest = await sha(logPath, 'sha256').catch(() => undefined);
    if (logDigest === undefined) problems.push(`log ${logPath} is missing`);
    else if (logDigest !== b.digest?.sha256) problems.push(`log ${logPath} has sha256 ${logDigest}, the provenance says ${b.digest?.sha256}`);
    if (problems.length > 0) add(id, 'step', 'fail', 'the step does not match the provenance', problems);
    else add(id, 'step', 'pass', `fingerprint ${finish.fingerprint.slice(0, 16)}…, log digest match`);
  }
  for (const id of finishes.keys()) {
    if (!documented.has(id)) add(id, 'step', 'fail', 'the journal has a finished step the provenance does not list');
  }
}

function verifyAgainstLock(lock: ReadonlyMap<string, LockEntry>, predicate: SlsaProvenance, add: Add): void {
  for (const start of predicate.buildDefinition.resolvedDependencies.filter((d) => d.annotations?.kind === 'starting-point')) {
    const entryName = start.annotations?.lockEntry;
    const name = start.name ?? 'starting point';
    if (typeof entryName !== 'string') {
      add(name, 'starting-point', 'warn', 'the starting point names no lock entry for the source it was built from');
      continue;
    }
    const entry = lock.get(entryName);
    if (!entry) add(name, 'starting-point', 'fail', `names lock entry ${entryName}, which the lock does not have`);
    else if (entry.integrity === null) add(name, 'starting-point', 'warn', `built from ${entryName}, which is unpinned in the lock`);
    else add(name, 'starting-point', 'pass', `built from ${entryName} (${entry.kind}), pinned in the lock`);
  }
  for (const dep of predicate.buildDefinition.resolvedDependencies.filter((d) => d.annotations?.kind === 'material' && typeof d.annotations.lockEntry === 'string')) {
    const name = String(dep.annotations!.lockEntry);
    const pinned = lock.get(name)?.git?.commit;
    if (pinned === undefined) add(name, 'material', 'fail', 'the run used this tree but the lock pins no commit for it');
    else if (pinned !== dep.digest?.gitCommit) add(name, 'material', 'fail', `the run used commit ${dep.digest?.gitCommit}, the lock pins ${pinned}`);
    else add(name, 'material', 'pass', `commit ${pinned.slice(0, 12)} as the lock pins it`);
  }
  for (const dep of predicate.buildDefinition.resolvedDependencies.filter((d) => d.annotations?.kind === 'distfile')) {
    const name = dep.name ?? '(unnamed)';
    const entry = lock.get(name);
    if (!entry) {
      add(name, 'distfile', 'fail', 'the run used this distfile but it is not in the lock');
      continue;
    }
    if (entry.integrity === null) {
      add(name, 'distfile', 'fail', 'the run used this distfile but its lock entry is unpinned');
      continue;
    }
    const want = integrityToDigestSet(entry.integrity);
    const { shared, differs } = compareDigestSets(dep.digest ?? {}, want);
    if (differs.length > 0) {
      add(name, 'distfile', 'fail', 'the digest the run used differs from the lock', differs.map((a) => `${a}: provenance ${dep.digest?.[a]}, lock ${want[a]}`));
    } else if (shared.length === 0) add(name, 'distfile', 'fail', 'no digest algorithm in common with the lock entry');
    else add(name, 'distfile', 'pass', `${shared.join(' + ')} match the lock`);
  }
}
