import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { foldJournal } from '../../../src/engine/fold-journal.js';
import { JournalWriter, readJournal, type RunStartedEvent } from '../../../src/engine/journal.js';
import { tempDir } from '../../helpers/env.js';

const start: RunStartedEvent = {
  type: 'run-started',
  tool: 'bootstrap',
  journalVersion: 1,
  time: 't0',
  runId: 'r',
  recipe: { name: 'x', version: '1', path: '/x/recipe.yaml', digest: 'd' },
  params: { slow: '5' },
  given: {},
  steps: ['a', 'b', 'c'],
};

describe('journal', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => dir.remove());

  it('ignores a torn last line when reading and drops it before appending', () => {
    const w = JournalWriter.open(dir.path);
    w.append(start);
    w.append({ type: 'step-started', time: 't1', step: 'a', attempt: 1, fingerprint: 'f', log: 'l' });
    w.close();
    appendFileSync(join(dir.path, 'journal.jsonl'), '{"type":"step-fini');
    const read = readJournal(dir.path)!;
    expect(read.events).toHaveLength(2);
    expect(read.tornBytes).toBe(18);
    const again = JournalWriter.open(dir.path);
    again.append({ type: 'interrupted', time: 't2', step: 'a', signal: 'SIGINT' });
    again.close();
    const text = readFileSync(join(dir.path, 'journal.jsonl'), 'utf8');
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).type)).toEqual(['run-started', 'step-started', 'interrupted']);
  });

  it('refuses an unknown journal version', () => {
    writeFileSync(join(dir.path, 'journal.jsonl'), JSON.stringify({ ...start, journalVersion: 9 }) + '\n');
    expect(() => readJournal(dir.path)).toThrow(/journal version 9/);
  });

  it('with head, reads and checks only the run-started line (a later corrupt line is the full read\'s to refuse)', () => {
    writeFileSync(join(dir.path, 'journal.jsonl'), `${JSON.stringify(start)}\n{"type":"step-started"}\n`);
    expect(readJournal(dir.path, { head: true })!.events).toEqual([start]);
    expect(() => readJournal(dir.path)).toThrow(/line 2 is not a valid step-started event/);
    writeFileSync(join(dir.path, 'journal.jsonl'), `${JSON.stringify({ ...start, journalVersion: 9 })}\n`);
    expect(() => readJournal(dir.path, { head: true })).toThrow(/journal version 9/);
  });

  it('folds events into per-step states; a started step without an end reads as running', () => {
    const state = foldJournal([
      start,
      { type: 'step-started', time: '', step: 'a', attempt: 1, fingerprint: 'fa', log: 'la1' },
      { type: 'step-finished', time: '', step: 'a', attempt: 1, fingerprint: 'fa', durationMs: 10, log: 'la1', logDigest: 'x', outcome: {} },
      { type: 'step-started', time: '', step: 'b', attempt: 1, fingerprint: 'fb', log: 'lb1' },
      { type: 'step-failed', time: '', step: 'b', attempt: 1, fingerprint: 'fb', durationMs: 5, log: 'lb1', exitCode: 2, message: 'm', tail: ['t'] },
      { type: 'run-resumed', time: '', from: 'b', given: { slow: '0' }, steps: ['a', 'b', 'c'] },
      { type: 'step-started', time: '', step: 'b', attempt: 2, fingerprint: 'fb2', log: 'lb2' },
    ])!;
    expect(state.params.slow).toBe('0');
    expect(state.given).toEqual({ slow: '0' });
    expect(state.planned).toEqual(['a', 'b', 'c']);
    expect(state.steps.get('a')).toMatchObject({ status: 'done', durationMs: 10 });
    expect(state.steps.get('b')).toMatchObject({ status: 'running', attempts: 2, fingerprint: 'fb2', log: 'lb2' });
    expect(state.steps.get('c')).toBeUndefined();
    expect(state.finished).toBe(false);
  });

  describe('checks every event, naming the journal and line, and changes nothing', () => {
    const lines = (...events: unknown[]) => events.map((e) => JSON.stringify(e)).join('\n') + '\n';
    const started = { type: 'step-started', time: 't1', step: 'a', attempt: 1, fingerprint: 'f', log: '/w/logs/001-a.1.log' };
    const finished = { ...started, type: 'step-finished', durationMs: 1, logDigest: 'd', outcome: {} };

    for (const [what, bad, message] of [
      ['a non-numeric attempt', { ...started, attempt: 'x' }, /line 2 is not a valid step-started event: attempt: .*number/],
      ['an attempt of 0', { ...started, attempt: 0 }, /line 2 is not a valid step-started event: attempt/],
      ['a missing step', { type: 'step-started', time: 't', attempt: 1, fingerprint: 'f', log: 'l' }, /line 2 is not a valid step-started event: step/],
      ['a finish without its outcome', { ...finished, outcome: undefined }, /line 2 is not a valid step-finished event: outcome/],
      ['an unknown event type', { type: 'step-exploded', time: 't' }, /line 2 has an unknown event type "step-exploded"/],
      ['a second run-started', start, /line 2 is a second run-started event/],
    ] as const) {
      it(`refuses ${what}`, () => {
        const path = join(dir.path, 'journal.jsonl');
        const text = lines(start, bad);
        writeFileSync(path, text);
        expect(() => readJournal(dir.path)).toThrow(new RegExp(`${path.replace(/[.]/g, '\\.')} ${message.source}`));
        expect(readFileSync(path, 'utf8')).toBe(text);
      });
    }

    it('refuses an event after run-finished other than run-resumed; a resumed run is not finished until it finishes again', () => {
      const path = join(dir.path, 'journal.jsonl');
      const runFinished = { type: 'run-finished', time: 't', documents: [] };
      writeFileSync(path, lines(start, started, runFinished, { ...started, step: 'b' }));
      expect(() => readJournal(dir.path)).toThrow(/line 4 is a step-started event after run-finished/);
      const resumed = { type: 'run-resumed', time: 't', from: 'b', given: {}, steps: ['a', 'b', 'c'] };
      writeFileSync(path, lines(start, finished, runFinished, resumed, { ...started, step: 'b' }));
      expect(foldJournal(readJournal(dir.path)!.events)!.finished).toBe(false);
      writeFileSync(path, lines(start, finished, runFinished));
      expect(foldJournal(readJournal(dir.path)!.events)!.finished).toBe(true);
    });

    it('folds a run-finished that is not the last event as not finished', () => {
      const state = foldJournal([start, { type: 'run-finished', time: 't', documents: [] }, { type: 'step-started', time: '', step: 'b', attempt: 1, fingerprint: 'f', log: 'l' }])!;
      expect(state.finished).toBe(false);
    });
  });
});

