import { describe, expect, it } from 'vitest';
import type { JournalEvent } from '../../../src/engine/journal.js';
import { journalTimeline } from '../../../src/report/journal-timeline.js';

const t = (s: number) => new Date(Date.UTC(2025, 0, 1) + s * 1000).toISOString();
const started = (s: number) => ({ type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: t(s), runId: 'r', recipe: { name: 'x', version: '1', path: '/x', digest: '' }, params: {}, given: {}, steps: ['a', 'b'] }) as JournalEvent;
const step = (type: string, s: number, step: string, attempt: number, extra: object = {}) => ({ type, time: t(s), step, attempt, fingerprint: 'f', log: `/logs/${step}.${attempt}.log`, ...extra }) as JournalEvent;
const at = (s: number) => Date.UTC(2025, 0, 1) + s * 1000;

describe('attempts and invocations from the journal', () => {
  it('a failed attempt keeps its exit status, the resume is a second invocation after a pause, durations are the journal\'s', () => {
    const { invocations, attempts, notes } = journalTimeline(
      [
        started(0),
        step('step-started', 1, 'a', 1),
        step('step-failed', 11, 'a', 1, { durationMs: 9_500, exitCode: 3, message: '', tail: [] }),
        { type: 'run-resumed', time: t(100), from: 'a', given: {}, steps: ['a', 'b'] },
        step('step-started', 101, 'a', 2),
        step('step-finished', 103, 'a', 2, { durationMs: 2_000, logDigest: '', outcome: {} }),
        { type: 'run-finished', time: t(104), documents: [] },
      ],
      at(1000),
      () => undefined,
    );
    expect(invocations.map((i) => [i.kind, i.ended, i.start, i.end])).toEqual([
      ['run', 'failed', at(0), at(11)],
      ['resume', 'finished', at(100), at(104)],
    ]);
    expect(attempts.get('a')!.map((a) => [a.attempt, a.status, a.exitCode, a.end - a.start])).toEqual([
      [1, 'failed', 3, 9_500],
      [2, 'done', undefined, 2_000],
    ]);
    expect(notes).toEqual([]);
  });

  it('interrupted, killed (ended at its log\'s last write) and still running', () => {
    const { invocations, attempts, notes } = journalTimeline(
      [
        started(0),
        step('step-started', 1, 'a', 1),
        { type: 'interrupted', time: t(5), step: 'a', signal: 'SIGINT' },
        { type: 'run-resumed', time: t(10), from: 'a', given: {}, steps: ['a', 'b'] },
        step('step-started', 11, 'a', 2),
        { type: 'run-resumed', time: t(60), from: 'a', given: {}, steps: ['a', 'b'] },
        step('step-started', 61, 'a', 3),
        step('step-finished', 62, 'a', 3, { durationMs: 1_000, logDigest: '', outcome: {} }),
        step('step-started', 63, 'b', 1),
      ],
      at(70),
      (log) => (log === '/logs/a.2.log' ? at(20) : undefined),
    );
    expect(attempts.get('a')!.map((a) => [a.status, a.signal, a.start, a.end])).toEqual([
      ['interrupted', 'SIGINT', at(1), at(5)],
      ['lost', undefined, at(11), at(20)],
      ['done', undefined, at(61), at(62)],
    ]);
    expect(attempts.get('b')!.map((a) => [a.status, a.end])).toEqual([['running', at(70)]]);
    expect(invocations.map((i) => i.ended)).toEqual(['interrupted', 'killed', 'running']);
    expect(notes.join('\n')).toMatch(/Step a attempt 2 has no end .* killed/);
    expect(notes.join('\n')).toMatch(/Step b attempt 1 has started and not ended: the run is still going/);
  });
});
