import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hexDigestToBase64, integrityProblem } from '../../../src/distfiles/integrity.js';
import { distfileNameProblem } from '../../../src/distfiles/lock-schema.js';
import { parseLock, readLock } from '../../../src/distfiles/read-lock.js';
import { serializeLock, updateLock, writeLock } from '../../../src/distfiles/write-lock.js';
import { tempDir } from '../../helpers/env.js';
import { sriOf } from '../../helpers/distfiles-lock.js';

const sri = sriOf(Buffer.from('hello'));
const entry = (extra: Record<string, unknown> = {}) => ({ size: 5, integrity: sri, urls: ['https://example.org/a.tar.gz'], kind: 'source', from: 'test', ...extra });
const text = (distfiles: Record<string, unknown>, version: unknown = 1) => JSON.stringify({ lockfileVersion: version, distfiles }, null, 2);

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected an error');
}

describe('reading the lock', () => {
  it('accepts pinned and unpinned entries, with allowBinaries', () => {
    const lock = parseLock(
      text({
        'a.tar.gz': entry({ allowBinaries: [{ pattern: 'tests/*.o', reason: 'test fixtures' }] }),
        'b.sqfs': { size: null, integrity: null, urls: ['http://example.org/b.sqfs'], kind: 'repo-snapshot' },
      }),
      'x.lock',
    );
    expect(lock.distfiles['a.tar.gz']!.allowBinaries).toEqual([{ pattern: 'tests/*.o', reason: 'test fixtures' }]);
    expect(lock.distfiles['b.sqfs']!.integrity).toBeNull();
  });

  it('gives line and column of malformed JSON', () => {
    const error = errorOf(() => parseLock('{\n  "lockfileVersion": 1,\n  "distfiles": {\n    "a": ,\n  }\n}\n', 'my.lock'));
    expect(error.code).toBe('ELOCKSYNTAX');
    expect(error.message).toMatch(/^my\.lock:4:\d+: not valid JSON/);
  });

  it('refuses an unknown lockfileVersion', () => {
    const error = errorOf(() => parseLock(text({}, 2), 'my.lock'));
    expect(error).toMatchObject({ code: 'ELOCKVERSION' });
    expect(error.message).toContain('my.lock:2:3: lockfileVersion 2 is not supported');
  });

  it.each([
    ['sha512-abc', 'not a sha512 of the right length'],
    ['md5-' + Buffer.alloc(16).toString('base64'), 'unknown algorithm'],
    ['blake2b512-' + Buffer.alloc(64).toString('base64'), 'no sha512'],
    ['sha512 ' + 'x', 'not algorithm-base64'],
  ])('refuses the bad SRI string %s (%s)', (integrity) => {
    const error = errorOf(() => parseLock(text({ 'a.tar.gz': entry({ integrity }) }), 'my.lock'));
    expect(error.code).toBe('ELOCKSCHEMA');
    expect(error.message).toMatch(/^my\.lock:\d+:\d+: distfiles\["a\.tar\.gz"\]\.integrity: integrity /);
  });

  it.each(['../x', '/abs', 'dir/file', '.hidden', 'a b', ''])('refuses the unsafe name %j', (name) => {
    const error = errorOf(() => parseLock(text({ [name]: entry() }), 'my.lock'));
    expect(error.code).toBe('ELOCKSCHEMA');
    expect(error.message).toContain(`distfile name "${name}"`);
  });

  it('refuses a name listed twice, with its line', () => {
    const raw = `{\n  "lockfileVersion": 1,\n  "distfiles": {\n    "a.tar.gz": ${JSON.stringify(entry())},\n    "a.tar.gz": ${JSON.stringify(entry())}\n  }\n}\n`;
    const error = errorOf(() => parseLock(raw, 'my.lock'));
    expect(error.code).toBe('ELOCKDUPLICATE');
    expect(error.message).toBe('my.lock:5:5: distfile "a.tar.gz" is listed twice');
  });

  it('names the field and line of a schema error', () => {
    const raw = text({ 'a.tar.gz': entry({ kind: 'binary', urls: ['ftp://x/y'] }) });
    const error = errorOf(() => parseLock(raw, 'my.lock'));
    const lines = raw.split('\n');
    const kindLine = lines.findIndex((l) => l.includes('"kind"')) + 1;
    expect(error.message).toContain(`my.lock:${kindLine}:7: distfiles["a.tar.gz"].kind`);
    expect(error.message).toContain('"ftp://x/y" is not an http or https URL');
  });

  it('requires size and from on a pinned entry, and refuses unknown fields', () => {
    expect(errorOf(() => parseLock(text({ a: entry({ size: null }) }), 'l')).message).toContain('must also record its size');
    expect(errorOf(() => parseLock(text({ a: entry({ from: undefined }) }), 'l')).message).toContain('must say where its hash came from');
    expect(errorOf(() => parseLock(text({ a: entry({ sha: 'x' }) }), 'l')).message).toContain('sha');
  });

  it('says when the lock file is missing', async () => {
    await expect(readLock('/nonexistent/distfiles.lock')).rejects.toMatchObject({ code: 'ELOCKMISSING' });
  });
});

describe('writing the lock', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => (dir = tempDir('distfiles-lock-')));
  afterEach(() => dir.remove());

  it('sorts names, orders keys, indents by 2 and ends with a newline', () => {
    const lock = parseLock(text({ 'z.tar': { from: 'test', kind: 'seed', urls: ['https://e.org/z'], integrity: sri, size: 5 }, 'a.tar': entry() }), 'l');
    const out = serializeLock(lock);
    expect(out.endsWith('}\n')).toBe(true);
    expect(out.indexOf('"a.tar"')).toBeLessThan(out.indexOf('"z.tar"'));
    const z = JSON.stringify(JSON.parse(out).distfiles['z.tar']);
    expect(Object.keys(JSON.parse(z))).toEqual(['size', 'integrity', 'urls', 'kind', 'from']);
    expect(out).toContain('\n  "distfiles": {\n    "a.tar": {\n      "size": 5,');
    expect(serializeLock(parseLock(out, 'l'))).toBe(out);
  });

  it('writes atomically and keeps concurrent updates', async () => {
    const path = join(dir.path, 'distfiles.lock');
    await writeLock(path, { lockfileVersion: 1, distfiles: {} });
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((n) => updateLock(path, (lock) => void (lock.distfiles[`${n}.tar`] = parseLock(text({ x: entry() }), 'l').distfiles.x!))),
    );
    expect(Object.keys((await readLock(path)).distfiles)).toEqual(['a.tar', 'b.tar', 'c.tar', 'd.tar']);
  });

  it('refuses to write an invalid lock and leaves the old one', async () => {
    const path = join(dir.path, 'distfiles.lock');
    writeFileSync(path, serializeLock({ lockfileVersion: 1, distfiles: {} }));
    const before = readFileSync(path, 'utf8');
    await expect(writeLock(path, { lockfileVersion: 1, distfiles: { '../x': entry() as never } })).rejects.toThrow();
    expect(readFileSync(path, 'utf8')).toBe(before);
  });
});

describe('names and digests', () => {
  it('turns Gentoo hex digests into SRI base64', () => {
    const hex = '10e8a4b1e2327e062aef4f85860e76ebcd7a29e4c19e152ff7edec4a38316982b5bcfde4ab69da6bcb931258d264c2b6cb40cb5f635f9e6f6eba1ed5976267cb';
    expect(hexDigestToBase64('sha512', hex)).toBe('EOikseIyfgYq70+Fhg526816KeTBnhUv9+3sSjgxaYK1vP3kq2naa8uTEljSZMK2y0DLX2Nfnm9uuh7Vl2Jnyw==');
    expect(() => hexDigestToBase64('sha512', hex.slice(2))).toThrow(/128 hex digits/);
  });

  it('accepts ordinary distfile names', () => {
    for (const name of ['portage-3.0.66.1.tar.bz2', 'gentoo-20250101.xz.sqfs', 'foo_1.2+b~rc1.tar.gz']) expect(distfileNameProblem(name)).toBeUndefined();
    expect(integrityProblem(sri)).toBeUndefined();
  });
});
