import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { LockEntry } from '../distfiles/lock-schema.js';
import { foldJournal } from '../engine/fold-journal.js';
import { JOURNAL_FILE, readJournal, type JournalContents, type StepStartedEvent } from '../engine/journal.js';
import { BootstrapError, errnoCode, isBootstrapError } from '../util/errors.js';
import { compareDigestSets, integrityToDigestSet, PROVENANCE_FILE, verifyProvenance } from './provenance.js';
import type { Check, CheckStatus } from './report.js';

function digestSetOf(integrity: string): Record<string, string> | undefined {
  try {
    return integrityToDigestSet(integrity);
  } catch {
    return undefined;
  }
}

export interface RunAuditOptions {
  lock?: ReadonlyMap<string, LockEntry>;
  /** The provenance document; by default the one the journal's run-finished event names. */
  provenancePath?: string;
  stagePath?: string;
  /** Passed on to verifyProvenance: sha512 hex of files already hashed, by absolute path. */
  knownSha512?: ReadonlyMap<string, string>;
}

/**
 * Audits a finished run from its work directory: the journal is complete and consistent, the
 * distfiles the steps used are the ones the lock pins, and the provenance document verifies.
 */
export async function auditRun(workDir: string, options: RunAuditOptions = {}): Promise<Check[]> {
  try {
    if (!(await stat(workDir)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new BootstrapError('EAUDITWORK', `--work ${workDir}: ${errnoCode(error) === 'ENOENT' ? 'no such directory' : (error as Error).message}`, {
      hint: 'Point --work at the work directory of a `bootstrap run`.',
    });
  }
  const checks: Check[] = [];
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    checks.push({ section: 'run', subject, check, status, reason, ...(details ? { details } : {}) });
  const journalPath = join(workDir, JOURNAL_FILE);

  let journal: JournalContents | undefined;
  try {
    journal = readJournal(workDir);
  } catch (error) {
    // A journal that no longer parses is a finding about the run, not a mistake of the auditor.
    if (!isBootstrapError(error)) throw error;
    add(journalPath, 'journal', 'fail', error.message);
    return checks;
  }
  if (!journal || journal.events.length === 0) {
    throw new BootstrapError('EAUDITWORK', `--work ${workDir}: no ${JOURNAL_FILE}, so no run to audit`, {
      hint: 'Point --work at the work directory of a `bootstrap run`.',
    });
  }
  const state = foldJournal(journal.events)!;
  if (journal.tornBytes > 0) add(journalPath, 'journal', 'warn', `the last ${journal.tornBytes} bytes are a torn line (a crash mid-write); ignored`);

  const planned = state.planned;
  const unfinished = planned.filter((id) => state.steps.get(id)?.status !== 'done');
  if (unfinished.length > 0) {
    add(journalPath, 'complete', 'fail', `${unfinished.length} of ${planned.length} planned steps did not finish`,
      unfinished.map((id) => `${id}: ${state.steps.get(id)?.status ?? 'never started'}`));
  } else add(journalPath, 'complete', 'pass', `all ${planned.length} planned steps finished`);
  if (state.finished) add(journalPath, 'finished', 'pass', 'the journal ends with run-finished');
  else add(journalPath, 'finished', 'fail', 'the journal has no run-finished event after the last step');

  const starts = new Map<string, StepStartedEvent>();
  const drift: string[] = [];
  const used = new Map<string, { integrity: string; step: string }>();
  const conflicts: string[] = [];
  for (const event of journal.events) {
    if (event.type === 'step-started') starts.set(`${event.step}#${event.attempt}`, event);
    if (event.type !== 'step-finished') continue;
    const start = starts.get(`${event.step}#${event.attempt}`);
    if (!start) drift.push(`${event.step} attempt ${event.attempt}: finished without a start`);
    else if (start.fingerprint !== event.fingerprint) drift.push(`${event.step} attempt ${event.attempt}: started as ${start.fingerprint}, finished as ${event.fingerprint}`);
    for (const [name, integrity] of Object.entries(event.outcome?.distfiles ?? {})) {
      const before = used.get(name);
      if (before && before.integrity !== integrity) conflicts.push(`${name}: ${before.step} used ${before.integrity}, ${event.step} used ${integrity}`);
      used.set(name, { integrity, step: event.step });
    }
  }
  if (drift.length > 0) add(journalPath, 'fingerprints', 'fail', 'a step finished with another fingerprint than it started with', drift);
  else add(journalPath, 'fingerprints', 'pass', 'every finished step kept the fingerprint it started with');
  if (conflicts.length > 0) add(journalPath, 'distfiles', 'fail', 'steps used different bytes under the same distfile name', conflicts);

  for (const [name, { integrity, step }] of [...used].sort(([a], [b]) => a.localeCompare(b))) {
    if (!options.lock) {
      add(name, 'distfile', 'warn', `used by ${step}; no lock given to compare with`);
      continue;
    }
    const entry = options.lock.get(name);
    if (!entry) add(name, 'distfile', 'fail', `used by ${step} but not in the lock`);
    else if (entry.integrity === null) add(name, 'distfile', 'fail', `used by ${step} but unpinned in the lock`);
    else {
      const used = digestSetOf(integrity);
      if (used === undefined) {
        add(name, 'distfile', 'fail', `${step} recorded a malformed integrity in the journal: ${integrity}`);
        continue;
      }
      const { shared, differs } = compareDigestSets(used, integrityToDigestSet(entry.integrity));
      if (differs.length > 0 || shared.length === 0) {
        add(name, 'distfile', 'fail', `${step} used other bytes than the lock pins`, [`used ${integrity}`, `lock ${entry.integrity}`]);
      } else add(name, 'distfile', 'pass', `used by ${step}, ${shared.join(' + ')} match the lock`);
    }
  }

  const provenancePath =
    options.provenancePath ?? state.documents.find((d) => basename(d) === PROVENANCE_FILE) ?? join(workDir, PROVENANCE_FILE);
  checks.push(
    ...(await verifyProvenance({
      provenancePath,
      workDir,
      journal: { contents: journal, state },
      ...(options.stagePath ? { stagePath: options.stagePath } : {}),
      ...(options.lock ? { lock: options.lock } : {}),
      ...(options.knownSha512 ? { knownSha512: options.knownSha512 } : {}),
    })),
  );
  return checks;
}
