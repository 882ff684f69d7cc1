import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JOURNAL_FILE, readJournal, type JournalEvent } from '../engine/journal.js';
import { runStatus, type EngineDeps } from '../engine/session.js';
import { isBootstrapError } from '../util/errors.js';
import { buildReport } from './build-report.js';
import type { ReportData } from './model.js';

/**
 * The report of the run in `work`, read-only: no lock, no root. A run still going, or a journal
 * that is damaged, gives what can be read and a note; only a missing run is an error.
 */
export async function readRun(workDir: string, deps: EngineDeps, now = Date.now()): Promise<ReportData> {
  const work = resolve(workDir);
  let status;
  try {
    status = await runStatus(work, deps);
  } catch (error) {
    if (isBootstrapError(error) && error.code === 'EJOURNAL') return salvage(work, error.message, now);
    throw error;
  }
  let journal;
  try {
    journal = readJournal(work);
  } catch (error) {
    if (isBootstrapError(error) && error.code === 'EJOURNAL') return salvage(work, error.message, now);
    throw error;
  }
  return buildReport({
    work,
    events: journal?.events ?? [],
    tornBytes: journal?.tornBytes ?? 0,
    ...(status.plan ? { plan: status.plan } : {}),
    ...(status.planError ? { planError: status.planError } : {}),
    now,
  });
}

/** A damaged journal: the lines that still parse, without the recipe's phases. */
function salvage(work: string, problem: string, now: number): ReportData {
  const events: JournalEvent[] = [];
  let text = '';
  try {
    text = readFileSync(join(work, JOURNAL_FILE), 'utf8');
  } catch {
    // Nothing more to show than the note.
  }
  for (const line of text.split('\n')) {
    try {
      const event = JSON.parse(line) as JournalEvent;
      if (event && typeof event === 'object' && typeof event.type === 'string' && typeof event.time === 'string') events.push(event);
    } catch {
      // The note names the first bad line.
    }
  }
  if (events[0]?.type !== 'run-started') events.length = 0;
  const data = buildReport({ work, events, tornBytes: 0, planError: 'the journal is damaged', now });
  data.notes.unshift(`${problem}. Shown: the ${events.length} journal lines that still read as events.`);
  return data;
}
