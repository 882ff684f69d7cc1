import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fingerprintInputs, inputDigests, inputTexts, type FingerprintMaterial } from '../../../src/engine/fingerprint.js';
import { readJournal } from '../../../src/engine/journal.js';
import { unifiedDiff } from '../../../src/engine/text-diff.js';

const material = (script: string, env: Record<string, string> = { A: '1' }): FingerprintMaterial => ({
  kind: 'run',
  root: { path: '/r', shell: ['/bin/sh'], prelude: 'umask 022', env },
  detail: { script, env: { X: 'y' }, cwd: null },
});

describe('fingerprint inputs (bootstrap why)', () => {
  it('names each input: root fields, root env, detail keys one level down, written files by path', () => {
    const inputs = inputDigests(fingerprintInputs(material('echo hi'), [{ path: '/etc/motd', sha256: 'ab'.repeat(32) }]));
    expect(Object.keys(inputs)).toEqual(['kind', 'root.path', 'root.shell', 'root.prelude', 'root.env.A', 'script', 'env.X', 'cwd', 'file /etc/motd']);
    expect(inputs['file /etc/motd']).toBe('ab'.repeat(8));
    for (const d of Object.values(inputs)) expect(d).toMatch(/^[0-9a-f]{16}$/);
    const other = inputDigests(fingerprintInputs(material('echo ho')));
    expect(other.script).not.toBe(inputs.script);
    expect(other['root.env.A']).toBe(inputs['root.env.A']);
  });

  it('keeps the text of string inputs, the shortest first, within the budget', () => {
    const big = 'x'.repeat(20_000);
    const texts = inputTexts(fingerprintInputs(material(big)));
    expect(texts.script).toBeUndefined();
    expect(texts['root.env.A']).toBe('1');
    expect(texts['root.prelude']).toBe('umask 022');
    expect(inputTexts(fingerprintInputs(material('echo hi'))).script).toBe('echo hi');
  });

  it('a unified diff with context', () => {
    const before = 'abcdefghij'.split('').join('\n');
    const after = 'aBcdefghijz'.split('').join('\n');
    expect(unifiedDiff(before, after)).toEqual(['@@ -1,4 +1,4 @@', ' a', '-b', '+B', ' c', ' d', '@@ -9,2 +9,3 @@', ' i', ' j', '+z']);
    // Changes closer than twice the context share a hunk.
    expect(unifiedDiff('a\nb\nc\nd\ne', 'A\nb\nc\nd\nE')).toEqual(['@@ -1,5 +1,5 @@', '-a', '+A', ' b', ' c', ' d', '-e', '+E']);
    expect(unifiedDiff('same', 'same')).toEqual([]);
  });

  it('the journal accepts step-finished with inputs and texts, and refuses inputs that are not strings', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bootstrap-journal-'));
    try {
      const start = { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: 't', runId: 'r', recipe: { name: 'n', version: '1', path: '/p', digest: 'd' }, params: {}, given: {}, steps: ['s'] };
      const finished = { type: 'step-finished', time: 't', step: 's', attempt: 1, fingerprint: 'f', log: '/l', durationMs: 1, logDigest: 'x', outcome: {}, inputs: { script: 'ab' }, texts: { script: 'echo' } };
      writeFileSync(join(dir, 'journal.jsonl'), [start, finished].map((e) => JSON.stringify(e)).join('\n') + '\n');
      expect(readJournal(dir)!.events).toHaveLength(2);
      writeFileSync(join(dir, 'journal.jsonl'), [start, { ...finished, inputs: { script: 3 } }].map((e) => JSON.stringify(e)).join('\n') + '\n');
      expect(() => readJournal(dir)).toThrow(/line 2 is not a valid step-finished event: inputs\.script/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
