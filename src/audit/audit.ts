import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { LockEntry } from '../distfiles/lock-schema.js';
import { BootstrapError } from '../util/errors.js';
import { auditInputs, scanToChecks } from './audit-inputs.js';
import { summarise, type AuditReport } from './report.js';

export interface AuditOptions {
  /** The lock file. */
  lockPath: string;
  /** False when lockPath is only the default: a missing default lock then skips the lock checks. */
  lockGiven: boolean;
  distdir?: string;
  /** A live-bootstrap output to check against the lock (`--target`). */
  targetDir?: string;
  workDir?: string;
  stagePath?: string;
  provenancePath?: string;
  /** Binary package folders to check against their index and tie to the runs in workDir. */
  pkgdirs?: string[];
  /** Extra files to scan for binaries without a lock entry (`--scan`). */
  scan?: string[];
  strict: boolean;
  maxDepth?: number;
}

/**
 * Runs every audit the options ask for and gathers the verdicts. Throws BootstrapError (exit 2)
 * on bad input: an unreadable lock, a missing directory, a file that is not the archive it
 * claims to be. Failures of the audited things themselves are checks with status `fail`.
 */
export async function runAudit(options: AuditOptions): Promise<AuditReport> {
  // Each kind of audit is loaded when asked for: `--scan FILE` alone needs neither the lock's
  // schema nor the journal's.
  const report: AuditReport = { seeds: [], checks: [], findings: [], unscanned: [], summary: { pass: 0, warn: 0, fail: 0 } };
  // Distfiles are only verifiable against a lock; a run can be audited without one (its
  // distfile checks then warn), and so can a stage or a provenance document.
  const needsLock = options.distdir !== undefined || options.targetDir !== undefined;
  const lockExists = await access(options.lockPath).then(() => true, () => false);
  let entries: Map<string, LockEntry> | undefined;
  if (options.lockGiven || lockExists || needsLock) {
    if (!lockExists && !options.lockGiven) {
      throw new BootstrapError('EAUDITLOCK', `${options.lockPath}: no lock file here, and --distdir is checked against one`, {
        hint: 'Give the lock with --lock FILE.',
      });
    }
    const { auditLock } = await import('./audit-lock.js');
    const lock = await auditLock(options.lockPath, { strict: options.strict });
    report.seeds = lock.seeds;
    report.checks.push(...lock.checks);
    entries = lock.entries;
  } else if (!options.workDir && !options.stagePath && !options.provenancePath && !options.scan?.length && !options.pkgdirs?.length) {
    throw new BootstrapError('EAUDITNOTHING', `nothing to audit: no ${options.lockPath} here and no --work, --stage, --provenance, --pkgdir or --scan`, {
      hint: 'Run in the project directory, or give --lock FILE (and --distdir, --work, --stage as needed).',
    });
  }

  const scanOptions = { strict: options.strict, ...(options.maxDepth !== undefined ? { maxDepth: options.maxDepth } : {}) };
  if (options.distdir !== undefined) {
    const inputs = await auditInputs(options.distdir, entries!, scanOptions);
    report.checks.push(...inputs.checks);
    report.findings.push(...inputs.findings);
    report.unscanned.push(...inputs.unscanned);
  }
  if (options.targetDir !== undefined) {
    const { auditLiveBootstrapTarget } = await import('./audit-live-bootstrap.js');
    const target = await auditLiveBootstrapTarget(resolve(options.targetDir), options.lockPath, entries!, { ...scanOptions, ...(options.distdir ? { storeDir: options.distdir } : {}) });
    report.checks.push(...target.checks);
    report.findings.push(...target.findings);
    report.unscanned.push(...target.unscanned);
  }
  for (const file of options.scan ?? []) {
    const scanned = await scanToChecks(file, file, undefined, scanOptions);
    report.checks.push(...scanned.checks);
    report.findings.push(...scanned.findings);
    report.unscanned.push(...scanned.unscanned);
  }
  // The stage is hashed first so that verifyProvenance compares its sha512 with the
  // provenance subject without reading the (multi-GB) seed a second time.
  const provenanceVerified = options.workDir !== undefined || options.provenancePath !== undefined;
  const stage = options.stagePath === undefined ? undefined : await (await import('./audit-stage.js')).auditStage(options.stagePath, provenanceVerified ? { provenanceSubject: false } : {});
  const known = stage ? { knownSha512: new Map([[resolve(options.stagePath!), stage.sha512]]) } : {};
  if (options.workDir !== undefined) {
    const { auditRun } = await import('./audit-run.js');
    report.checks.push(
      ...(await auditRun(options.workDir, {
        ...(entries ? { lock: entries } : {}),
        ...(options.provenancePath ? { provenancePath: options.provenancePath } : {}),
        ...(options.stagePath ? { stagePath: options.stagePath } : {}),
        ...known,
      })),
    );
  } else if (options.provenancePath !== undefined) {
    const { verifyProvenance } = await import('./provenance.js');
    report.checks.push(
      ...(await verifyProvenance({
        provenancePath: options.provenancePath,
        ...(options.stagePath ? { stagePath: options.stagePath } : {}),
        ...(entries ? { lock: entries } : {}),
        ...known,
      })),
    );
  }
  for (const pkgdir of options.pkgdirs ?? []) {
    const { auditPkgdir } = await import('./audit-pkgdir.js');
    report.checks.push(...(await auditPkgdir(pkgdir, { strict: options.strict, ...(options.workDir !== undefined ? { workDir: options.workDir } : {}) })).checks);
  }
  if (stage) {
    report.checks.push(...stage.checks);
    report.packages = stage.packages;
  }
  report.summary = summarise(report.checks);
  return report;
}
