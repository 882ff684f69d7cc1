import { describe, expect, it } from 'vitest';
import { parseDigests } from '../../../src/stage/catalyst-files.js';
import { checkSafeName, parseProfile, parseSeedName } from '../../../src/handoff/names.js';
import { renderSpec } from '../../../src/handoff/spec-file.js';
import { parseCatalystSpec } from '../../helpers/catalyst-spec.js';

describe('parseCatalystSpec() (test helper following catalyst/config.py)', () => {
  it('reads keys, continuation lines and comments as Catalyst does', () => {
    const spec = parseCatalystSpec('# head\nsubarch: amd64 # trailing\nlivecd/use:\n\tfbcon\n  ssl nls\nempty:\nurl: http://x:1/y\n');
    expect(spec).toEqual({ subarch: 'amd64', 'livecd/use': ['fbcon', 'ssl', 'nls'], url: 'http://x:1/y' });
  });
  it('raises on "%" in a key line, as Python formatting would', () => {
    expect(() => parseCatalystSpec('storedir: /tmp/100%\n')).toThrow(/%/);
  });
  it('starts a new key on a continuation line holding ":"', () => {
    expect(parseCatalystSpec('a:\n\tx\n\thttp://y\n')).toEqual({ a: 'x', http: '//y' });
  });
});

describe('renderSpec()', () => {
  it('writes single values, inline lists and indented lists that read back the same', () => {
    const text = renderSpec('t.spec', [
      { key: 'subarch', value: 'amd64' },
      { key: 'update_seed_command', value: ['--update', '@world'], inline: true },
      { key: 'livecd/packages', value: ['app-misc/screen', 'sys-apps/busybox'], gap: true, comment: 'tools' },
    ]);
    expect(text).toBe('subarch: amd64\nupdate_seed_command: --update @world\n\n# tools\nlivecd/packages:\n\tapp-misc/screen\n\tsys-apps/busybox\n');
    expect(parseCatalystSpec(text)).toEqual({ subarch: 'amd64', update_seed_command: ['--update', '@world'], 'livecd/packages': ['app-misc/screen', 'sys-apps/busybox'] });
  });
  it('refuses what Catalyst would read differently, naming the file and key', () => {
    const bad: Array<[string | string[], string, boolean?]> = [
      ['/tmp/100%', 'EHANDOFF_SPEC_PERCENT'],
      ['a#b', 'EHANDOFF_SPEC_VALUE'],
      ['a b', 'EHANDOFF_SPEC_VALUE'],
      ['"quoted"', 'EHANDOFF_SPEC_VALUE'],
      [['ok', 'x:y'], 'EHANDOFF_SPEC_VALUE'],
      [[], 'EHANDOFF_SPEC_VALUE'],
    ];
    for (const [value, code] of bad) {
      expect(() => renderSpec('t.spec', [{ key: 'portage_confdir', value }])).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^t\.spec: .*portage_confdir/) }));
    }
    expect(() => renderSpec('t.spec', [{ key: 'a b', value: 'x' }])).toThrow(expect.objectContaining({ code: 'EHANDOFF_SPEC_VALUE' }));
    expect(() => renderSpec('t.spec', [{ key: 'a', value: 'x' }, { key: 'a', value: 'y' }])).toThrow(/given twice/);
  });
});

describe('names', () => {
  it('parses releng-style profiles and refuses others', () => {
    expect(parseProfile('default/linux/amd64/23.0/desktop/systemd')).toEqual({ path: 'default/linux/amd64/23.0/desktop/systemd', arch: 'amd64', version: '23.0', flavour: ['desktop', 'systemd'] });
    expect(parseProfile('default/linux/amd64/23.0').flavour).toEqual([]);
    for (const bad of ['default/linux/amd64', 'hardened/linux/amd64/23.0', '/default/linux/amd64/23.0', 'default/linux/amd64/23.0/']) {
      expect(() => parseProfile(bad)).toThrow(expect.objectContaining({ code: 'EHANDOFF_PROFILE' }));
    }
  });
  it('splits a seed name into stem and compression by suffix', () => {
    expect(parseSeedName('stage3-bootstrap.tar.xz', 'x')).toMatchObject({ stem: 'stage3-bootstrap', compression: 'xz' });
    expect(parseSeedName('s.tar', 'x')).toMatchObject({ stem: 's', compression: 'none' });
    expect(parseSeedName('s.tar.zst', 'x')).toMatchObject({ stem: 's', compression: 'zstd' });
    expect(() => parseSeedName('s.tgz', 'x')).toThrow(expect.objectContaining({ code: 'EHANDOFF_SEED_NOT_TAR' }));
    expect(() => parseSeedName('.tar.xz', 'x')).toThrow(expect.objectContaining({ code: 'EHANDOFF_SEED_NOT_TAR' }));
    expect(() => parseSeedName('my seed.tar.xz', 'x')).toThrow(expect.objectContaining({ code: 'EHANDOFF_UNSAFE_VALUE' }));
  });
  it('accepts safe names only', () => {
    expect(checkSafeName('timestamp', '20240915T163400Z')).toBe('20240915T163400Z');
    for (const bad of ['', '-x', 'a/b', 'a..b', 'a%b', 'a:b']) expect(() => checkSafeName('timestamp', bad)).toThrow();
  });
});

describe('parseDigests()', () => {
  it('reads Catalyst blocks, with binary-mode markers, and names the bad line', () => {
    const entries = parseDigests(`# BLAKE2B HASH\n${'a'.repeat(128)}  s.tar.xz\n# SHA512 HASH\n${'b'.repeat(128)} *s.tar.xz\n`, 'D');
    expect(entries).toEqual([
      { algorithm: 'BLAKE2B', hex: 'a'.repeat(128), fileName: 's.tar.xz', line: 2 },
      { algorithm: 'SHA512', hex: 'b'.repeat(128), fileName: 's.tar.xz', line: 4 },
    ]);
    expect(() => parseDigests(`${'b'.repeat(128)}  s.tar.xz\n`, 'D')).toThrow(/^D:1: not a DIGESTS line/);
    expect(() => parseDigests('# SHA512 HASH\nnot hex  s\n', 'D')).toThrow(/^D:2:/);
  });
});
