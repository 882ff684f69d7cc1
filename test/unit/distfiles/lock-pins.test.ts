import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPinned } from '../../../src/distfiles/lock-schema.js';
import { parseLock } from '../../../src/distfiles/read-lock.js';
import { serializeLock } from '../../../src/distfiles/write-lock.js';
import { sriOf } from '../../helpers/distfiles-lock.js';

/** The pins beside digests: sha256 alone (imported lists), a git commit, an OpenPGP signature. */

const sha256 = `sha256-${createHash('sha256').update('x').digest('base64')}`;
const commit = '0123456789abcdef0123456789abcdef01234567';
const text = (distfiles: Record<string, unknown>) => JSON.stringify({ lockfileVersion: 1, distfiles });
const source = (extra: Record<string, unknown> = {}) => ({ size: null, integrity: sha256, urls: ['https://example.org/x.tar.gz'], kind: 'source', from: 'live-bootstrap@fcfc7bde:steps/x/sources', group: 'live-bootstrap', ...extra });
const snapshot = (extra: Record<string, unknown> = {}) => ({ size: null, integrity: null, urls: ['https://example.org/r'], kind: 'repo-snapshot', from: 'gitlink', group: 'live-bootstrap', git: { commit, path: 'seed/x' }, ...extra });
const key = { size: 3, integrity: sriOf(Buffer.from('key')), urls: ['https://example.org/k.asc'], kind: 'source', from: 'test' };
const signed = (extra: Record<string, unknown> = {}) => ({
  size: null,
  integrity: null,
  urls: ['https://example.org/s.sqfs'],
  kind: 'repo-snapshot',
  from: 'test',
  signature: { urls: ['https://example.org/s.sqfs.asc'], key: 'k.asc', fingerprint: 'dcd05b71eab94199527f44acdb6b8c1f96d8bf6d' },
  ...extra,
});

function schemaError(distfiles: Record<string, unknown>): string {
  try {
    parseLock(text(distfiles), 'x.lock');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a schema error');
}

describe('sha256-only entries', () => {
  it('are accepted from an imported list (with a group), without a size, and count as pinned', () => {
    const lock = parseLock(text({ 'x.tar.gz': source() }), 'x.lock');
    expect(isPinned(lock.distfiles['x.tar.gz']!)).toBe(true);
    expect(serializeLock(lock)).toContain('"group": "live-bootstrap"');
  });

  it('are refused without a group: every other pin keeps sha512 and a size', () => {
    expect(schemaError({ 'x.tar.gz': source({ group: undefined }) })).toContain('integrity has only sha256: allowed for entries imported from an upstream list');
    expect(schemaError({ 'x.tar.gz': { ...key, size: null } })).toContain('a pinned entry (integrity set) must also record its size');
  });
});

describe('entries pinned by a git commit', () => {
  it('are repo-snapshots with no size or digests, and count as pinned', () => {
    const lock = parseLock(text({ 'r-0123456789ab.tar': snapshot() }), 'x.lock');
    expect(isPinned(lock.distfiles['r-0123456789ab.tar']!)).toBe(true);
    expect(lock.distfiles['r-0123456789ab.tar']!.git).toEqual({ commit, path: 'seed/x' });
  });

  it.each([
    [{ git: { commit: 'abc', path: '' } }, 'a commit is 40 lowercase hex digits'],
    [{ git: { commit, path: '../up' } }, "a relative path without '.', '..'"],
    [{ git: { commit, path: '/abs' } }, "a relative path without '.', '..'"],
    [{ kind: 'source' }, 'an entry pinned by a git commit is a repo-snapshot'],
    [{ integrity: sriOf(Buffer.from('a')), size: 1 }, 'an entry pinned by a git commit is a repo-snapshot'],
    [{ from: undefined }, 'a pinned entry must say where its hash came from'],
  ])('refuse %j', (extra, message) => {
    expect(schemaError({ 'r.tar': snapshot(extra) })).toContain(message);
  });
});

describe('entries pinned by a signature', () => {
  it('name a key entry of the lock pinned by its digests, and count as pinned before they have digests', () => {
    const lock = parseLock(text({ 'k.asc': key, 's.sqfs': signed() }), 'x.lock');
    expect(isPinned(lock.distfiles['s.sqfs']!)).toBe(true);
    const again = parseLock(serializeLock(lock), 'x.lock');
    expect(again.distfiles['s.sqfs']!.signature).toEqual(lock.distfiles['s.sqfs']!.signature);
  });

  it('refuse a key that is not in the lock, or not pinned by digests', () => {
    expect(schemaError({ 's.sqfs': signed() })).toMatch(/distfiles\["s\.sqfs"\]\.signature\.key: names "k\.asc", which must be an entry of this lock pinned by its digests/);
    expect(schemaError({ 'k.asc': { ...key, size: null, integrity: null }, 's.sqfs': signed() })).toContain('must be an entry of this lock pinned by its digests');
  });

  it('refuse a fingerprint that is not 40 hex digits', () => {
    expect(schemaError({ 'k.asc': key, 's.sqfs': signed({ signature: { urls: ['https://example.org/a.asc'], key: 'k.asc', fingerprint: '96D8BF6D' } }) })).toContain('a fingerprint is 40 lowercase hex digits');
  });
});

describe("the project's lock", () => {
  it("pins Gentoo's signed snapshot of 2025-01-01 by the Gentoo ebuild repository signing key, whose key file Gentoo's Manifest pins", async () => {
    const { readLock } = await import('../../../src/distfiles/read-lock.js');
    const { projectRoot } = await import('../../helpers/env.js');
    const lock = await readLock(`${projectRoot}/distfiles.lock`);
    const snapshot = lock.distfiles['gentoo-20250101.tar.xz']!;
    expect(snapshot.signature).toEqual({
      urls: ['https://distfiles.gentoo.org/snapshots/gentoo-20250101.tar.xz.gpgsig'],
      key: 'gentoo-release.asc.20260125.gz',
      // Portage's emerge-webrsync names key 0x96D8BF6D; the openpgp-keys-gentoo-release ebuild lists its fingerprint.
      fingerprint: 'dcd05b71eab94199527f44acdb6b8c1f96d8bf6d',
    });
    expect(lock.distfiles['gentoo-release.asc.20260125.gz']).toMatchObject({ size: 14059, from: expect.stringMatching(/^gentoo Manifest sec-keys\/openpgp-keys-gentoo-release/) });
  });
});
