import { describe, expect, it } from 'vitest';
import { digestsText, parseDigests } from '../../../src/stage/catalyst-files.js';
import { DEFAULT_SEED_EXCLUDES, literalPattern, normalizeExcludes } from '../../../src/stage/exclude.js';
import { digestsOf, sri } from '../../../src/stage/hashing.js';
import { checkEpoch, compressionFor, compressor, tarCreateArgs, toolEnv } from '../../../src/stage/tar-command.js';

describe('normalizeExcludes', () => {
  it('anchors every pattern at the root in the ./ form tar matches', () => {
    expect(normalizeExcludes(['var/tmp/*', '/var/db/repos/*', './usr/local/bin/x', 'etc/ssh/', './/a'])).toEqual([
      './var/tmp/*',
      './var/db/repos/*',
      './usr/local/bin/x',
      './etc/ssh',
      './a',
    ]);
    expect(normalizeExcludes(DEFAULT_SEED_EXCLUDES)).toEqual(['./var/cache/distfiles/*', './var/db/repos/*', './var/tmp/*']);
  });

  it('refuses patterns that match the whole root, leave it, or hold line breaks, naming the entry', () => {
    for (const bad of ['', '.', './', '/', '../etc', 'var/../../x', 'a\nb']) {
      expect(() => normalizeExcludes(['ok', bad], 'step s: exclude')).toThrow(expect.objectContaining({ code: 'EPACK_EXCLUDE', message: expect.stringContaining('step s: exclude[1]') }));
    }
  });
});

describe('literalPattern', () => {
  it('escapes the characters tar would take as wildcards', () => {
    expect(literalPattern('mnt/bound [1]')).toBe('./mnt/bound \\[1\\]');
    expect(literalPattern('a*b?c\\d')).toBe('./a\\*b\\?c\\\\d');
    expect(literalPattern('proc')).toBe('./proc');
  });
});

describe('compressionFor', () => {
  it('reads the compression from the name, or checks the given one against it', () => {
    expect(compressionFor('/x/stage3.tar.xz')).toBe('xz');
    expect(compressionFor('/x/stage3.tar.zst')).toBe('zstd');
    expect(compressionFor('/x/stage3.tar')).toBe('none');
    expect(compressionFor('/x/stage3.tar.xz', 'xz')).toBe('xz');
  });

  it('refuses names Catalyst would decompress wrongly and unknown compressions', () => {
    expect(() => compressionFor('/x/stage3.tar.gz')).toThrow(expect.objectContaining({ code: 'EPACK_SUFFIX' }));
    // Short forms would pack a seed that bootstrap handoff then refuses.
    expect(() => compressionFor('/x/stage3.txz', 'xz')).toThrow(expect.objectContaining({ code: 'EPACK_SUFFIX' }));
    expect(() => compressionFor('/x/stage3.tar.xz', 'zstd')).toThrow(expect.objectContaining({ code: 'EPACK_SUFFIX', message: expect.stringContaining('--compress zstd') }));
    expect(() => compressionFor('/x/stage3.tar.xz', 'gzip')).toThrow(expect.objectContaining({ code: 'EPACK_COMPRESS' }));
  });
});

describe('checkEpoch', () => {
  it('takes whole non-negative seconds or nothing', () => {
    expect(() => checkEpoch(undefined)).not.toThrow();
    expect(() => checkEpoch(0)).not.toThrow();
    expect(() => checkEpoch(1735689600)).not.toThrow();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 60]) expect(() => checkEpoch(bad)).toThrow(expect.objectContaining({ code: 'EPACK_EPOCH' }));
  });
});

describe('tarCreateArgs', () => {
  it('pins everything that would make the bytes depend on the host or the moment', () => {
    const args = tarCreateArgs({ excludes: ['./var/tmp/*'], epoch: 1700000000 });
    for (const a of ['--sort=name', '--format=posix', '--numeric-owner', '--one-file-system', '--xattrs', '--xattrs-include=security.capability', '--mtime=@1700000000', '--clamp-mtime']) {
      expect(args).toContain(a);
    }
    expect(args.find((a) => a.startsWith('--pax-option='))).toBe('--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime,delete=mtime');
    // A tree with an mtime the header cannot hold keeps every mtime in a pax record.
    const precise = tarCreateArgs({ excludes: [], preciseMtimes: true });
    expect(precise.find((a) => a.startsWith('--pax-option='))).toBe('--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime');
    // Matching options only affect the --exclude options after them.
    expect(args.indexOf('--anchored')).toBeLessThan(args.indexOf('--exclude=./var/tmp/*'));
    expect(args.indexOf('--wildcards-match-slash')).toBeLessThan(args.indexOf('--exclude=./var/tmp/*'));
  });

  it('keeps mtimes when no epoch is given', () => {
    expect(tarCreateArgs({ excludes: [] }).some((a) => a.startsWith('--mtime') || a === '--clamp-mtime')).toBe(false);
  });
});

describe('compressor', () => {
  it('always runs xz in multi-threaded mode (never -T1 or -T0) with a pinned block size', () => {
    const xz = compressor('xz')!;
    const threads = xz.args.find((a) => a.startsWith('--threads='))!;
    expect(Number(threads.split('=')[1])).toBeGreaterThanOrEqual(2);
    expect(xz.args).toContain('--block-size=24MiB');
    expect(compressor('zstd')!.args).not.toContain('--single-thread');
    expect(compressor('none')).toBeUndefined();
  });

  it('runs tools with an environment that cannot change the bytes', () => {
    expect(Object.keys(toolEnv()).sort()).toEqual(['LC_ALL', 'PATH', 'TZ']);
  });
});

describe('digestsText', () => {
  it('writes Catalyst\'s blocks, tarball first, that the hand-off parser reads back', () => {
    const a = digestsOf(Buffer.from('tarball'));
    const c = digestsOf(Buffer.from('contents'));
    const text = digestsText([
      { name: 'stage3.tar.xz', digests: a },
      { name: 'stage3.tar.xz.CONTENTS.gz', digests: c },
    ]);
    expect(text).toBe(
      `# BLAKE2B HASH\n${a.blake2b}  stage3.tar.xz\n# SHA512 HASH\n${a.sha512}  stage3.tar.xz\n` +
        `# BLAKE2B HASH\n${c.blake2b}  stage3.tar.xz.CONTENTS.gz\n# SHA512 HASH\n${c.sha512}  stage3.tar.xz.CONTENTS.gz\n`,
    );
    const parsed = parseDigests(text, 'x.DIGESTS');
    expect(parsed.map((e) => [e.algorithm, e.fileName])).toEqual([
      ['BLAKE2B', 'stage3.tar.xz'],
      ['SHA512', 'stage3.tar.xz'],
      ['BLAKE2B', 'stage3.tar.xz.CONTENTS.gz'],
      ['SHA512', 'stage3.tar.xz.CONTENTS.gz'],
    ]);
  });

  it('hashes with SHA-512 and BLAKE2b-512 (FIPS 180 and RFC 7693 test vectors) and gives SRI strings', () => {
    const abc = digestsOf(Buffer.from('abc'));
    expect(abc.size).toBe(3);
    expect(abc.sha512).toBe('ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f');
    expect(abc.blake2b).toBe('ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923');
    expect(sri(abc.sha512)).toBe('sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw==');
  });
});
