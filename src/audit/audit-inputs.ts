import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { hashFile } from '../distfiles/hash.js';
import { algorithmsOf, mismatchedAlgorithms, parseIntegrity } from '../distfiles/integrity.js';
import type { LockEntry } from '../distfiles/lock-schema.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { matchesGlob } from '../util/glob.js';
import type { Check, CheckStatus, JudgedFinding } from './report.js';
import { ArchiveError, scanArchive, type BinaryFinding, type UnscannedMember } from './scan-archive.js';

/** Nested archive members are named `outer!inner`: `*` stays within a component and a member. */
export const MEMBER_SEPARATORS = '/!';

export interface InputsAudit {
  checks: Check[];
  findings: JudgedFinding[];
  unscanned: UnscannedMember[];
}

export interface InputsOptions {
  strict: boolean;
  maxDepth?: number;
  tmpDir?: string;
}

/**
 * The allow-list's verdict on a finding. In a declared seed, binaries are what the entry is;
 * they are shown (warn) rather than failed, and the report lists the seed first.
 */
export function judgeFinding(finding: BinaryFinding, entry: Pick<LockEntry, 'kind' | 'allowBinaries'> | undefined): JudgedFinding {
  const allow = entry?.allowBinaries?.find((a) => matchesGlob(finding.member, a.pattern, MEMBER_SEPARATORS));
  if (allow) return { ...finding, status: 'warn', allowedBy: { pattern: allow.pattern, reason: allow.reason } };
  if (entry?.kind === 'seed') return { ...finding, status: 'warn', allowedBy: { pattern: '*', reason: 'declared binary seed (kind: seed)' } };
  return { ...finding, status: 'fail' };
}

function describeFinding(finding: JudgedFinding): string {
  const why = finding.allowedBy ? ` (allowed by "${finding.allowedBy.pattern}": ${finding.allowedBy.reason})` : '';
  return `${finding.member}: ${finding.detail}, ${finding.size} bytes${why}`;
}

/** Scans one file and turns what was found into checks on `subject`. */
export async function scanToChecks(
  path: string,
  subject: string,
  entry: Pick<LockEntry, 'kind' | 'allowBinaries'> | undefined,
  options: InputsOptions,
): Promise<InputsAudit> {
  let result;
  try {
    result = await scanArchive(path, { name: subject, maxDepth: options.maxDepth, tmpDir: options.tmpDir });
  } catch (error) {
    if (error instanceof ArchiveError && error.reason === 'missing-tool') {
      const unscanned = [{ archive: subject, member: subject, reason: error.message }];
      const check: Check = { section: 'inputs', subject, check: 'scan-coverage', status: options.strict ? 'fail' : 'warn', reason: `not scanned: ${error.message}` };
      return { checks: [check], findings: [], unscanned };
    }
    if (error instanceof ArchiveError) {
      throw new BootstrapError('EAUDITARCHIVE', `${path}: ${error.message}`, {
        hint:
          error.reason === 'unreadable'
            ? 'Check the path and its permissions.'
            : 'The file is damaged or is not the archive its name says; fetch it again (`bootstrap fetch`) or fix its lock entry.',
      });
    }
    throw error;
  }
  const findings = result.findings.map((f) => judgeFinding(f, entry));
  const checks: Check[] = [];
  const failed = findings.filter((f) => f.status === 'fail');
  const excused = findings.filter((f) => f.status === 'warn');
  const scanned = `${result.format}, ${result.members} member${result.members === 1 ? '' : 's'} scanned`;
  if (failed.length > 0) {
    checks.push({
      section: 'inputs', subject, check: 'binaries', status: 'fail',
      reason: `${failed.length} prebuilt binar${failed.length === 1 ? 'y' : 'ies'} not in the entry's allowBinaries (${scanned})`,
      details: failed.map(describeFinding),
    });
  }
  if (excused.length > 0) {
    checks.push({
      section: 'inputs', subject, check: 'binaries', status: 'warn',
      reason: `${excused.length} prebuilt binar${excused.length === 1 ? 'y' : 'ies'} allowed with a reason`,
      details: excused.map(describeFinding),
    });
  }
  if (findings.length === 0) checks.push({ section: 'inputs', subject, check: 'binaries', status: 'pass', reason: `no prebuilt binaries (${scanned})` });
  if (result.unscanned.length > 0) {
    checks.push({
      section: 'inputs', subject, check: 'scan-coverage', status: options.strict ? 'fail' : 'warn',
      reason: `${result.unscanned.length} nested member${result.unscanned.length === 1 ? '' : 's'} could not be looked into`,
      details: result.unscanned.map((u) => `${u.member}: ${u.reason}`),
    });
  }
  return { checks, findings, unscanned: result.unscanned };
}

/**
 * Checks every lock entry present in `distdir`: size and every digest of its integrity
 * (streaming), then a binary scan of its contents. A file that does not match is not scanned:
 * whatever is in it is not what the lock pins.
 */
export async function auditInputs(distdir: string, entries: ReadonlyMap<string, LockEntry>, options: InputsOptions): Promise<InputsAudit> {
  try {
    if (!(await stat(distdir)).isDirectory()) throw new Error('not a directory');
  } catch (error) {
    throw new BootstrapError('EAUDITDISTDIR', `--distdir ${distdir}: ${errnoCode(error) === 'ENOENT' ? 'no such directory' : (error as Error).message}`, {
      hint: 'Point --distdir at the directory `bootstrap fetch --dest` filled.',
    });
  }
  const out: InputsAudit = { checks: [], findings: [], unscanned: [] };
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    out.checks.push({ section: 'inputs', subject, check, status, reason, ...(details ? { details } : {}) });

  for (const [name, entry] of [...entries].sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(distdir, name);
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) {
      add(name, 'present', 'warn', `not in ${distdir}: neither verified nor scanned`);
      continue;
    }
    if (entry.size !== null && info.size !== entry.size) {
      add(name, 'matches-lock', 'fail', `size ${info.size} bytes, the lock says ${entry.size}; not scanned`);
      continue;
    }
    if (entry.integrity === null) {
      add(name, 'matches-lock', options.strict ? 'fail' : 'warn', 'unpinned: the file cannot be checked against the lock');
    } else {
      const hashed = await hashFile(path, algorithmsOf(entry.integrity));
      const bad = mismatchedAlgorithms(entry.integrity, hashed.digests);
      if (bad.length > 0) {
        const want = parseIntegrity(entry.integrity);
        add(name, 'matches-lock', 'fail', `${bad.join(' and ')} digest differs from the lock; not scanned`,
          bad.map((a) => `${a}: expected ${want[a]}, found ${hashed.digests[a]}`));
        continue;
      }
      add(name, 'matches-lock', 'pass', `${info.size} bytes, ${Object.keys(hashed.digests).join(' + ')} match`);
    }
    const scanned = await scanToChecks(path, name, entry, options);
    out.checks.push(...scanned.checks);
    out.findings.push(...scanned.findings);
    out.unscanned.push(...scanned.unscanned);
  }
  return out;
}
