import type { LogMerge } from './emerge-log.js';
import type { AttemptReport, PackageReport } from './model.js';

// emerge.log has whole seconds; the journal, milliseconds.
const SLACK_MS = 1000;

export interface EmergeAttempt {
  step: string;
  attempt: AttemptReport;
}

/**
 * Puts each merge of one emerge.log under the emerge attempt it happened in (a merge that
 * started during an attempt belongs to it). Returns how many merges fit no attempt: an earlier
 * run's, or emerges run by hand.
 */
export function attributeMerges(path: string, merges: readonly LogMerge[], attempts: readonly EmergeAttempt[]): number {
  let outside = 0;
  for (const merge of merges) {
    const owner = attempts.find(({ attempt }) => merge.start >= attempt.start - SLACK_MS && merge.start <= attempt.end + SLACK_MS);
    if (!owner) {
      outside++;
      continue;
    }
    owner.attempt.packages.push(toPackage(path, merge, owner.attempt));
  }
  for (const { attempt } of attempts) attempt.packages.sort((a, b) => a.start - b.start || a.index - b.index);
  return outside;
}

/** A merge the log leaves open ends with its attempt: still running, or failed with it. */
function toPackage(path: string, merge: LogMerge, attempt: AttemptReport): PackageReport {
  const open = merge.status === 'open';
  const status: PackageReport['status'] = merge.status === 'open' ? (attempt.status === 'running' ? 'running' : 'failed') : merge.status;
  const end = open ? Math.max(merge.start, attempt.end) : (merge.end ?? merge.start);
  return {
    name: merge.name,
    index: merge.index,
    total: merge.total,
    root: merge.root,
    start: merge.start,
    end,
    status,
    ...(merge.exitStatus !== undefined ? { exitStatus: merge.exitStatus } : {}),
    log: path,
  };
}
