import { describe, expect, it } from 'vitest';
import { packageName, parseDigests } from '../../../src/audit/audit-stage.js';
import { isTarHeader, sniffContainer } from '../../../src/audit/containers.js';
import { MEMBER_SEPARATORS } from '../../../src/audit/audit-inputs.js';
import { matchesGlob as matchesPath } from '../../../src/util/glob.js';

const matchesGlob = (path: string, pattern: string) => matchesPath(path, pattern, MEMBER_SEPARATORS);
import { judgeFinding } from '../../../src/audit/audit-inputs.js';

describe('allow-list globs', () => {
  it('match whole member paths, * within a component, ** across components and nesting', () => {
    expect(matchesGlob('pkg-1.0/tests/data/a.exe', 'pkg-1.0/tests/data/*.exe')).toBe(true);
    expect(matchesGlob('pkg-1.0/tests/data/sub/a.exe', 'pkg-1.0/tests/data/*.exe')).toBe(false);
    expect(matchesGlob('pkg-1.0/tests/data/sub/a.exe', 'pkg-1.0/**/*.exe')).toBe(true);
    expect(matchesGlob('pkg-1.0/v.tar.gz!bin/x', 'pkg-1.0/*')).toBe(false);
    expect(matchesGlob('pkg-1.0/v.tar.gz!bin/x', 'pkg-1.0/v.tar.gz!**')).toBe(true);
    expect(matchesGlob('a.b', 'a?b')).toBe(true);
    expect(matchesGlob('axb', 'a.b')).toBe(false);
  });

  it('turn a finding into a justified warning, and fail it otherwise', () => {
    const finding = { archive: 'a.tar', member: 'a/t/x.exe', kind: 'pe' as const, detail: 'PE32', size: 1 };
    const allow = [{ pattern: 'a/t/*.exe', reason: 'test fixture for the PE parser' }];
    expect(judgeFinding(finding, { kind: 'source', allowBinaries: allow })).toMatchObject({ status: 'warn', allowedBy: allow[0] });
    expect(judgeFinding(finding, { kind: 'source', allowBinaries: [{ pattern: 'b/**', reason: 'r' }] }).status).toBe('fail');
    expect(judgeFinding(finding, { kind: 'seed' }).status).toBe('warn');
    expect(judgeFinding(finding, undefined).status).toBe('fail');
  });
});

describe('stage helpers', () => {
  it('parse Catalyst .DIGESTS blocks', () => {
    const text = '# BLAKE2B HASH\naaaa  stage3.tar.xz\nbbbb  stage3.tar.xz.CONTENTS.gz\n# SHA512 HASH\nCCCC  stage3.tar.xz\n';
    const parsed = parseDigests(text);
    expect(parsed.get('BLAKE2B')?.get('stage3.tar.xz')).toBe('aaaa');
    expect(parsed.get('SHA512')?.get('stage3.tar.xz')).toBe('cccc');
    expect(parsed.get('BLAKE2B')?.get('stage3.tar.xz.CONTENTS.gz')).toBe('bbbb');
  });

  it('split a PF into the package name', () => {
    expect(packageName('rust-bin-1.0')).toBe('rust-bin');
    expect(packageName('rust-bin-1.83.0-r1')).toBe('rust-bin');
    expect(packageName('gcc-14.2.1_p20241221')).toBe('gcc');
    expect(packageName('binutils-2.43-r2')).toBe('binutils');
    expect(packageName('python-3.12.8_p1')).toBe('python');
  });
});

describe('container sniffing', () => {
  it('recognises compressions and a tar header by its checksum', () => {
    expect(sniffContainer(Buffer.from('1f8b0800', 'hex'))).toBe('gzip');
    expect(sniffContainer(Buffer.from('BZh91AY', 'latin1'))).toBe('bzip2');
    expect(sniffContainer(Buffer.from('fd377a585a00', 'hex'))).toBe('xz');
    expect(sniffContainer(Buffer.from('28b52ffd', 'hex'))).toBe('zstd');
    expect(sniffContainer(Buffer.from('504b0304', 'hex'))).toBe('zip');
    expect(sniffContainer(Buffer.from('hsqs', 'latin1'))).toBe('squashfs');
    const header = Buffer.alloc(512);
    header.write('file.txt', 0);
    header.write('0000644\0', 100);
    header.write('        ', 148);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    expect(isTarHeader(header)).toBe(true);
    header[0] = 0x67; // any change breaks the checksum
    expect(isTarHeader(header)).toBe(false);
    expect(sniffContainer(Buffer.from('BZh is a text'))).toBeNull();
  });
});
