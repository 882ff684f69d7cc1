import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditLock } from '../../../src/audit/audit-lock.js';
import { sriOf } from '../../helpers/distfiles-lock.js';
import { tempDir } from '../../helpers/env.js';

/** `bootstrap audit` of lock entries pinned by sha256 alone, by git commit and by signature. */

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('audit-lock-pins-');
});
afterEach(() => tmp.remove());

function lockWith(distfiles: Record<string, unknown>): string {
  const path = join(tmp.path, 'distfiles.lock');
  writeFileSync(path, JSON.stringify({ lockfileVersion: 1, distfiles }, null, 2));
  return path;
}

const sha256 = `sha256-${createHash('sha256').update('x').digest('base64')}`;
const key = { size: 3, integrity: sriOf(Buffer.from('key')), urls: ['https://example.org/k.asc'], kind: 'source', from: 'test' };

describe('auditLock and the pins beside digests', () => {
  it('passes imported sha256-only sources, git snapshots and signed snapshots, even under --strict', async () => {
    const path = lockWith({
      'x.tar.gz': { size: null, integrity: sha256, urls: ['https://example.org/x.tar.gz'], kind: 'source', from: 'live-bootstrap@fcfc7bde:steps/x/sources', group: 'live-bootstrap' },
      'r-0123456789ab.tar': { size: null, integrity: null, urls: ['https://example.org/r'], kind: 'repo-snapshot', from: 'gitlink', group: 'live-bootstrap', git: { commit: '0123456789abcdef0123456789abcdef01234567', path: 'r' } },
      'k.asc': key,
      's.sqfs': { size: null, integrity: null, urls: ['https://example.org/s.sqfs'], kind: 'repo-snapshot', from: 'test', signature: { urls: ['https://example.org/s.sqfs.asc'], key: 'k.asc', fingerprint: 'dcd05b71eab94199527f44acdb6b8c1f96d8bf6d' } },
    });
    const audit = await auditLock(path, { strict: true });
    expect(audit.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    expect(audit.checks.find((c) => c.subject === 'x.tar.gz' && c.check === 'integrity')?.reason).toBe('pinned: sha256, size unknown (live-bootstrap@fcfc7bde:steps/x/sources)');
    expect(audit.checks.find((c) => c.subject === 'r-0123456789ab.tar' && c.check === 'pinned')?.reason).toMatch(/^pinned by git commit 0123456789abcdef/);
    expect(audit.checks.find((c) => c.subject === 's.sqfs' && c.check === 'pinned')?.reason).toMatch(/^pinned by an OpenPGP signature of key dcd05b71/);
  });

  it('fails sha256 alone on an entry that was not imported from a list', async () => {
    const path = lockWith({ 'x.tar.gz': { size: null, integrity: sha256, urls: ['https://example.org/x.tar.gz'], kind: 'source', from: 'test' } });
    const audit = await auditLock(path, { strict: false });
    expect(audit.checks.filter((c) => c.status === 'fail').map((c) => c.check)).toEqual(expect.arrayContaining(['schema', 'integrity']));
  });
});
