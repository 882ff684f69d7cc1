import { describe, expect, it } from 'vitest';
import { attributeMerges, type EmergeAttempt } from '../../../src/report/attribute-merges.js';
import type { LogMerge } from '../../../src/report/emerge-log.js';

const attempt = (step: string, start: number, end: number, status: 'done' | 'failed' = 'done'): EmergeAttempt => ({ step, attempt: { attempt: 1, start, end, status, packages: [] } });
const merge = (name: string, start: number, status: LogMerge['status'] = 'done'): LogMerge => ({ name, index: 1, total: 1, root: '/', start, end: start + 1000, status });

describe('attributing emerge.log merges to attempts', () => {
  it('gives a merge logged in the second where one step ends and the next begins to the one it happened in', () => {
    // As in the real tier: bzip2/findutils ended at 41.333 s, the next emerge began at 41.342 s,
    // and emerge.log (whole seconds) says its package started at 42 s.
    const first = attempt('emerge-bzip2-findutils', 0, 41_333);
    const second = attempt('emerge-autoconf', 41_342, 43_314, 'failed');
    expect(attributeMerges('/log', [merge('a/findutils-1', 40_000), merge('a/autoconf-1', 42_000, 'failed')], [first, second])).toBe(0);
    expect(first.attempt.packages.map((p) => p.name)).toEqual(['a/findutils-1']);
    expect(second.attempt.packages.map((p) => p.name)).toEqual(['a/autoconf-1']);
  });

  it('still takes a merge logged up to a second outside every attempt, and counts the rest as outside', () => {
    const only = attempt('s', 5_000, 9_000);
    expect(attributeMerges('/log', [merge('a/early-1', 4_000), merge('a/late-1', 9_500), merge('a/far-1', 20_000)], [only])).toBe(1);
    expect(only.attempt.packages.map((p) => p.name)).toEqual(['a/early-1', 'a/late-1']);
  });
});
