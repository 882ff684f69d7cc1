import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { JournalEvent, StepFinishedEvent } from '../engine/journal.js';
import { journalTimeline } from '../report/journal-timeline.js';
import type { AttemptReport } from '../report/model.js';
import { verifyPackagesIndex, type PackageCheck } from '../binhost/verify-index.js';
import type { Check } from './report.js';

// BUILD_TIME has whole seconds; the journal, milliseconds.
const SLACK_MS = 1000;

/** The step attempt of a run that built a binary package. */
export interface Producer {
  runId: string;
  /** The journal that records it (`journal.jsonl`, or an earlier run's kept by --fresh). */
  journal: string;
  step: string;
  attempt: number;
  /** The step's fingerprint and its inputs (name → digest), as the journal recorded them. */
  fingerprint: string;
  inputs?: Record<string, string>;
  log?: string;
  /** Documents the run wrote (its provenance), when it finished. */
  documents: string[];
}

export interface PkgdirPackage {
  cpv: string;
  path: string;
  size: number;
  buildTime?: number;
  digests: Record<string, string>;
  problems: string[];
  producedBy?: Producer;
}

interface RunAttempt extends AttemptReport {
  producer: Omit<Producer, 'documents'> & { documents: string[] };
}

/**
 * Every package of a PKGDIR's index, checked against its file, and tied to the run that built
 * it: the emerge step attempt of a journal in `workDir` (the current run, or one kept by
 * `--fresh`) during which Portage stamped its BUILD_TIME, preferring an attempt whose log names
 * the package. A package no run in `workDir` produced is a warning (a failure with `strict`).
 */
export function attributePackages(checks: readonly PackageCheck[], workDir: string | undefined): PkgdirPackage[] {
  const attempts = workDir ? runAttempts(resolve(workDir)) : [];
  return checks.map((c) => {
    const buildTime = c.entry.fields.BUILD_TIME ? Number(c.entry.fields.BUILD_TIME) * 1000 : undefined;
    const base: PkgdirPackage = { cpv: c.entry.cpv, path: c.entry.path, size: c.entry.size, digests: c.digests, problems: c.problems, ...(buildTime !== undefined ? { buildTime: buildTime / 1000 } : {}) };
    if (buildTime === undefined || !Number.isFinite(buildTime)) return base;
    const during = attempts.filter((a) => buildTime >= a.start - SLACK_MS && buildTime <= a.end + SLACK_MS);
    const owner = during.find((a) => logNames(a.log, c.entry.cpv)) ?? during[0];
    return owner ? { ...base, producedBy: owner.producer } : base;
  });
}

export async function auditPkgdir(pkgdir: string, options: { workDir?: string; strict: boolean }): Promise<{ checks: Check[]; packages: PkgdirPackage[] }> {
  const verdict = await verifyPackagesIndex(pkgdir);
  const packages = attributePackages(verdict.checks, options.workDir);
  const checks: Check[] = [];
  for (const pkg of packages) {
    const subject = `${pkgdir}: ${pkg.cpv}`;
    const digest = pkg.digests.SHA512 ? `sha512 ${pkg.digests.SHA512}` : 'no digest (file missing)';
    checks.push({
      section: 'run',
      subject,
      check: 'binpkg-index',
      status: pkg.problems.length ? 'fail' : 'pass',
      reason: pkg.problems.length ? `${pkg.path} does not match the Packages index: ${pkg.problems.join('; ')}` : `${pkg.path}, ${pkg.size} bytes, ${digest}, as the Packages index lists it`,
    });
    if (!options.workDir) continue;
    const by = pkg.producedBy;
    checks.push(
      by
        ? {
            section: 'run',
            subject,
            check: 'binpkg-provenance',
            status: 'pass',
            reason: `built by run ${by.runId}, step ${by.step} attempt ${by.attempt} (fingerprint ${shortFingerprint(by.fingerprint)})`,
            details: [
              `journal: ${by.journal}`,
              ...(by.documents.length ? [`provenance: ${by.documents.join(', ')}`] : ['the run has not finished: no provenance document yet']),
              ...Object.entries(by.inputs ?? {}).map(([name, d]) => `input ${name}: ${d}`),
            ],
          }
        : {
            section: 'run',
            subject,
            check: 'binpkg-provenance',
            status: options.strict ? 'fail' : 'warn',
            reason: `no run in ${options.workDir} built it${pkg.buildTime ? ` (BUILD_TIME ${new Date(pkg.buildTime * 1000).toISOString()} is in no emerge attempt)` : ' (the index gives no BUILD_TIME)'}: built by hand, by another run, or copied in`,
          },
    );
  }
  for (const path of verdict.unlisted) {
    checks.push({ section: 'run', subject: `${pkgdir}: ${path}`, check: 'binpkg-index', status: 'warn', reason: 'a package file the Packages index does not list: Portage does not use it and a binhost does not serve it' });
  }
  return { checks, packages };
}

/** The emerge attempts of every run recorded in `workDir`, with their fingerprints. */
function runAttempts(workDir: string): RunAttempt[] {
  let names: string[];
  try {
    names = readdirSync(workDir).filter((n) => /^journal(\..+)?\.jsonl$/.test(n));
  } catch {
    return [];
  }
  const all: RunAttempt[] = [];
  for (const name of names) {
    const journal = join(workDir, name);
    const events = readEvents(journal);
    const started = events[0];
    if (started?.type !== 'run-started') continue;
    const finished = new Map<string, StepFinishedEvent | { fingerprint: string }>();
    const documents: string[] = [];
    for (const event of events) {
      if (event.type === 'step-finished' || event.type === 'step-failed' || event.type === 'step-started') {
        const key = `${event.step}#${event.attempt}`;
        if (event.type !== 'step-started' || !finished.has(key)) finished.set(key, event);
      }
      if (event.type === 'run-finished') documents.push(...event.documents);
    }
    // An attempt whose bootstrap was killed ends, as in `bootstrap report`, at its log's last write.
    const { attempts } = journalTimeline(events, Date.now(), (log) => statSync(log, { throwIfNoEntry: false })?.mtimeMs);
    for (const [step, list] of attempts) {
      for (const attempt of list) {
        const end = finished.get(`${step}#${attempt.attempt}`);
        const inputs = end && 'inputs' in end ? end.inputs : undefined;
        all.push({
          ...attempt,
          producer: { runId: started.runId, journal, step, attempt: attempt.attempt, fingerprint: end?.fingerprint ?? '', ...(inputs ? { inputs } : {}), ...(attempt.log ? { log: attempt.log } : {}), documents },
        });
      }
    }
  }
  return all;
}

/** A journal's events, leniently: a line that does not parse is left out (the run audit reports it). */
function readEvents(path: string): JournalEvent[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const events: JournalEvent[] = [];
  for (const line of text.split('\n')) {
    try {
      const event = JSON.parse(line) as JournalEvent;
      if (event && typeof event.type === 'string' && typeof event.time === 'string') events.push(event);
    } catch {
      // torn or damaged line
    }
  }
  return events;
}

/** A fingerprint as `bootstrap why` shows it: the algorithm and 16 hex digits. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.replace(/^((?:sha256:)?[0-9a-f]{16}).*$/, '$1');
}

/** Whether an attempt's log names the package (emerge prints `Emerging (1 of 2) cat/pkg-ver::repo`). */
function logNames(log: string | undefined, cpv: string): boolean {
  if (!log) return false;
  try {
    return readFileSync(log, 'utf8').includes(` ${cpv}::`);
  } catch {
    return false;
  }
}
