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
});
