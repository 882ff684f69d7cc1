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
    const owner = ownerOf(merge.start, attempts);
    if (!owner) {
      outside++;
      continue;
    }
    owner.attempt.packages.push(toPackage(path, merge, owner.attempt));
  }
  for (const { attempt } of attempts) attempt.packages.sort((a, b) => a.start - b.start || a.index - b.index);
  return outside;
}

/**
 * The attempt a merge logged at second `start` happened in: its true start lies in
 * [start, start + 1 s), so the attempt that overlaps that second most wins (two steps can both
 * touch one second: one ending, the next beginning); none overlapping it, the nearest within the
 * slack of one second either side.
 */
function ownerOf(start: number, attempts: readonly EmergeAttempt[]): EmergeAttempt | undefined {
  let best: EmergeAttempt | undefined;
  let bestOverlap = 0;
  for (const candidate of attempts) {
    const overlap = Math.min(candidate.attempt.end, start + SLACK_MS) - Math.max(candidate.attempt.start, start);
    if (overlap > bestOverlap) {
      best = candidate;
      bestOverlap = overlap;
    }
  }
  return best ?? attempts.find(({ attempt }) => start >= attempt.start - SLACK_MS && start <= attempt.end + SLACK_MS);
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
