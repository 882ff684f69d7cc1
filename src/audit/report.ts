import type { BinaryFinding, UnscannedMember } from './scan-archive.js';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export type Section = 'lock' | 'inputs' | 'target' | 'run' | 'provenance' | 'stage';

/** One verdict of the audit: what was checked, on what, the outcome and why. */
export interface Check {
  section: Section;
  /** What was checked: a distfile name, a step id, a file path. */
  subject: string;
  /** The rule, e.g. `pinned`, `integrity`, `binaries`, `journal`. */
  check: string;
  status: CheckStatus;
  reason: string;
  /** Supporting lines: findings, mismatches, package names. */
  details?: string[];
}

/** A binary found in an input, with the verdict the lock's allow-list gives it. */
export interface JudgedFinding extends BinaryFinding {
  status: CheckStatus;
  /** The allow-list entry that excuses it, when one does. */
  allowedBy?: { pattern: string; reason: string };
}

export interface SeedListing {
  name: string;
  integrity: string | null;
  size: number | null;
  urls: string[];
  from?: string;
}

export interface AuditReport {
  /** Entries of kind `seed`: the binaries this chain trusts, listed first in every report. */
  seeds: SeedListing[];
  checks: Check[];
  findings: JudgedFinding[];
  unscanned: UnscannedMember[];
  /** Packages in the stage's var/db/pkg, as `category/pf`, when a stage was audited. */
  packages?: string[];
  summary: Record<CheckStatus, number>;
}

export function summarise(checks: readonly Check[]): Record<CheckStatus, number> {
  const summary: Record<CheckStatus, number> = { pass: 0, warn: 0, fail: 0 };
  for (const check of checks) summary[check.status]++;
  return summary;
}
