import { readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLock } from '../../../src/audit/audit-lock.js';
import { auditRun } from '../../../src/audit/audit-run.js';
import { SLSA_PROVENANCE_V1, STATEMENT_TYPE, verifyProvenance, type InTotoStatement } from '../../../src/audit/provenance.js';
import type { Check } from '../../../src/audit/report.js';
import { flipByte, makeSyntheticRun, type SyntheticRun } from '../../helpers/audit-run.js';
import { tempDir } from '../../helpers/env.js';

const failures = (checks: Check[]) => checks.filter((c) => c.status === 'fail');

let tmp: { path: string; remove: () => void };
let run: SyntheticRun;
beforeEach(async () => {
  tmp = tempDir('bootstrap-audit-prov-');
  run = await makeSyntheticRun(tmp.path);
});
afterEach(() => tmp.remove());

async function lockEntries() {
  return (await auditLock(run.lockPath, { strict: false })).entries;
}

describe('provenance', () => {
  it('is an in-toto Statement v1 with a SLSA v1 predicate naming the seed, recipe, distfiles and steps', () => {
    const doc = JSON.parse(readFileSync(run.provenancePath, 'utf8')) as InTotoStatement;
    expect(doc._type).toBe(STATEMENT_TYPE);
    expect(doc.predicateType).toBe(SLSA_PROVENANCE_V1);
    expect(doc.subject).toEqual([{ name: 'stage3-i686-seed.tar.xz', digest: { sha512: expect.stringMatching(/^[0-9a-f]{128}$/) } }]);
    const def = doc.predicate.buildDefinition;
    expect(def.buildType).toBe('urn:bootstrap:recipe:demo:1');
    expect(def.externalParameters).toMatchObject({ recipe: { name: 'demo', version: '1', digest: { sha256: expect.any(String) } }, parameters: { jobs: '2' } });
    expect(def.resolvedDependencies.map((d) => d.name)).toEqual(['hello-1.0.tar.gz', 'live-bootstrap target']);
    expect(def.resolvedDependencies[0]!.digest).toMatchObject({ sha512: expect.any(String), blake2b: expect.any(String) });
    const names = doc.predicate.runDetails.byproducts.map((b) => b.name);
    expect(names).toEqual(['step:unpack', 'step:pack', 'stage3-i686-seed.tar.xz.DIGESTS', 'journal']);
    expect(doc.predicate.runDetails.metadata).toMatchObject({ startedOn: '2026-01-01T00:00:00.000Z', finishedOn: '2026-01-01T00:00:20.000Z' });
  });

  it('verifies against the seed, the work directory and the lock', async () => {
    const checks = await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir, lock: await lockEntries() });
    expect(failures(checks)).toEqual([]);
    expect(checks.map((c) => c.check)).toEqual(expect.arrayContaining(['document', 'subject', 'journal-digest', 'recipe-digest', 'parameters', 'step', 'distfile', 'starting-point']));
  });

  it('fails when one byte of the seed changes, saying the sha512 differs', async () => {
    flipByte(run.stagePath);
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir }));
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ check: 'subject', subject: 'stage3-i686-seed.tar.xz' });
    expect(bad[0]!.reason).toMatch(/sha512 .* differs from the provenance subject/);
  });

  it('fails when one byte of the journal changes, even in a timestamp', async () => {
    const text = readFileSync(run.journalPath, 'utf8');
    writeFileSync(run.journalPath, text.replace('"time":"2026-01-01T00:00:01.000Z"', '"time":"2026-01-01T00:00:02.000Z"'));
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir }));
    expect(bad.map((c) => c.check)).toEqual(['journal-digest']);
    expect(bad[0]!.reason).toMatch(/journal's first \d+ bytes differ/);
  });

  it('names the step whose fingerprint was edited in the journal', async () => {
    const text = readFileSync(run.journalPath, 'utf8');
    writeFileSync(run.journalPath, text.replace(/"fingerprint":"e{64}","durationMs"/, `"fingerprint":"d${'e'.repeat(63)}","durationMs"`));
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir }));
    expect(bad.map((c) => `${c.check}:${c.subject}`)).toEqual(['journal-digest:' + run.journalPath, 'step:pack']);
    expect(bad[1]!.details?.[0]).toMatch(/^fingerprint: provenance e+, journal de+/);
  });

  it('fails when a step log changed after the run', async () => {
    writeFileSync(run.logs[0]!, 'something else\n');
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir }));
    expect(bad).toMatchObject([{ check: 'step', subject: 'unpack' }]);
    expect(bad[0]!.details?.join('\n')).toMatch(/has sha256 [0-9a-f]+, the provenance says/);
  });

  it('fails when the lock pins other bytes than the run used', async () => {
    const lock = JSON.parse(readFileSync(run.lockPath, 'utf8'));
    const other = Buffer.alloc(64, 1).toString('base64');
    lock.distfiles['hello-1.0.tar.gz'].integrity = `sha512-${other}`;
    writeFileSync(run.lockPath, JSON.stringify(lock));
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, lock: await lockEntries() }));
    expect(bad).toMatchObject([{ check: 'distfile', subject: 'hello-1.0.tar.gz', reason: 'the digest the run used differs from the lock' }]);
  });

  it('checks that the starting point\'s source entry is in the lock', async () => {
    const checks = await verifyProvenance({ provenancePath: run.provenancePath, lock: await lockEntries() });
    expect(checks.find((c) => c.check === 'starting-point')).toMatchObject({ status: 'pass', reason: 'built from hello-1.0.tar.gz (source), pinned in the lock' });
    const other = await makeSyntheticRun(`${tmp.path}/other`, { startingPointEntry: 'live-bootstrap-1.0.tar.gz' });
    const bad = failures(await verifyProvenance({ provenancePath: other.provenancePath, lock: await lockEntries() })).filter((c) => c.check === 'starting-point');
    expect(bad).toMatchObject([{ check: 'starting-point', reason: 'names lock entry live-bootstrap-1.0.tar.gz, which the lock does not have' }]);
  });

  it('fails a document whose parameters were edited after the run', async () => {
    const doc = JSON.parse(readFileSync(run.provenancePath, 'utf8'));
    doc.predicate.buildDefinition.externalParameters.parameters.jobs = '64';
    writeFileSync(run.provenancePath, JSON.stringify(doc));
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath, workDir: run.workDir }));
    expect(bad).toMatchObject([{ check: 'parameters', details: ['jobs: provenance "64", journal "2"'] }]);
  });

  it('fails a document that is not a provenance statement', async () => {
    writeFileSync(run.provenancePath, '{"_type": "something else"}');
    const bad = failures(await verifyProvenance({ provenancePath: run.provenancePath }));
    expect(bad).toMatchObject([{ check: 'document' }]);
    expect(bad[0]!.reason).toMatch(/_type is "something else"/);
  });
});

describe('auditRun', () => {
  it('passes a complete, consistent run whose distfiles are in the lock', async () => {
    const checks = await auditRun(run.workDir, { lock: await lockEntries() });
    expect(failures(checks)).toEqual([]);
    expect(checks.filter((c) => c.section === 'run').map((c) => c.check)).toEqual(['complete', 'finished', 'fingerprints', 'distfile']);
  });

  it('fails a run whose last attempt of a step failed, and one with fingerprint drift', async () => {
    const lines = readFileSync(run.journalPath, 'utf8').trimEnd().split('\n');
    const started = JSON.parse(lines[3]!);
    const failed = { type: 'step-failed', time: started.time, step: 'pack', attempt: 2, fingerprint: started.fingerprint, durationMs: 1, log: started.log, exitCode: 1, message: 'boom', tail: [] };
    writeFileSync(run.journalPath, [...lines.slice(0, -1), JSON.stringify({ ...started, attempt: 2 }), JSON.stringify(failed)].join('\n') + '\n');
    const checks = await auditRun(run.workDir, { lock: await lockEntries() });
    const complete = checks.find((c) => c.check === 'complete')!;
    expect(complete.status).toBe('fail');
    expect(complete.details).toEqual(['pack: failed']);
    expect(checks.find((c) => c.check === 'finished')!.status).toBe('fail');

    writeFileSync(run.journalPath, lines.map((l) => (l.includes('"step-finished"') && l.includes('"unpack"') ? l.replace(/f{64}/, 'a'.repeat(64)) : l)).join('\n') + '\n');
    const drift = (await auditRun(run.workDir)).find((c) => c.check === 'fingerprints')!;
    expect(drift.status).toBe('fail');
    expect(drift.details?.[0]).toMatch(/^unpack attempt 1: started as f+, finished as a+$/);
  });

  it('fails a distfile the steps used that the lock does not have', async () => {
    const lock = JSON.parse(readFileSync(run.lockPath, 'utf8'));
    lock.distfiles = { 'other-1.0.tar.gz': { ...lock.distfiles['hello-1.0.tar.gz'] } };
    writeFileSync(run.lockPath, JSON.stringify(lock));
    const bad = failures(await auditRun(run.workDir, { lock: await lockEntries() }));
    expect(bad.map((c) => `${c.section}/${c.check}: ${c.reason}`)).toEqual([
      'run/distfile: used by unpack but not in the lock',
      'provenance/starting-point: names lock entry hello-1.0.tar.gz, which the lock does not have',
      'provenance/distfile: the run used this distfile but it is not in the lock',
    ]);
  });
});
