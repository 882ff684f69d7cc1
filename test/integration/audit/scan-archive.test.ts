import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArchiveError, scanArchive } from '../../../src/audit/scan-archive.js';
import { arArchive, makeTarball, peHeader, writeTree } from '../../helpers/audit-archives.js';
import { needsTool, tempDir } from '../../helpers/env.js';

const SOURCE = {
  'configure.ac': 'AC_INIT([pkg], [1.0])\n',
  'src/main.c': 'int main(void) { return 0; }\n',
  'README': 'MZ is how this line starts, which must not look like a DOS program.\n',
};

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('bootstrap-audit-scan-');
});
afterEach(() => tmp.remove());

describe('scanArchive', () => {
  it('passes a clean source tarball and counts its members', async () => {
    const archive = makeTarball(join(tmp.path, 'pkg-1.0.tar.gz'), SOURCE);
    const result = await scanArchive(archive);
    expect(result.format).toBe('tar+gzip');
    expect(result.members).toBe(3);
    expect(result.findings).toEqual([]);
    expect(result.unscanned).toEqual([]);
  });

  it.for(['tar', 'tar.bz2', 'tar.xz', 'tar.zst'])('finds a copy of /bin/true in a .%s and names the member', async (suffix, ctx) => {
    const tool = ({ 'tar.bz2': 'bzip2', 'tar.xz': 'xz', 'tar.zst': 'zstd' } as Record<string, string>)[suffix];
    if (tool) needsTool(ctx, tool);
    const archive = makeTarball(join(tmp.path, `pkg-1.0.${suffix}`), { ...SOURCE, 'tools/true': { copyOf: '/bin/true' } });
    const result = await scanArchive(archive);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({
      archive: `pkg-1.0.${suffix}`,
      member: 'pkg-1.0/tools/true',
      kind: 'elf',
      size: statSync('/bin/true').size,
    });
    expect(result.findings[0]!.detail).toMatch(/^ELF 64-bit LSB (executable|shared object or PIE)/);
  });

  it('finds a PE header and an ar archive', async () => {
    const archive = makeTarball(join(tmp.path, 'w.tar.gz'), { ...SOURCE, 'win/setup.exe': peHeader(), 'lib/libfoo.a': arArchive() });
    const result = await scanArchive(archive);
    const byMember = Object.fromEntries(result.findings.map((f) => [f.member, f.kind]));
    expect(byMember).toEqual({ 'pkg-1.0/win/setup.exe': 'pe', 'pkg-1.0/lib/libfoo.a': 'ar' });
  });

  it('scans a .tar.gz inside a tarball recursively and joins the member path with !', async () => {
    const inner = makeTarball(join(tmp.path, 'inner-2.0.tar.gz'), { 'bin/true': { copyOf: '/bin/true' } }, 'inner-2.0');
    const outer = makeTarball(join(tmp.path, 'outer.tar.xz'), { ...SOURCE, 'vendor/inner-2.0.tar.gz': readFileSync(inner) });
    const result = await scanArchive(outer);
    expect(result.findings.map((f) => f.member)).toEqual(['pkg-1.0/vendor/inner-2.0.tar.gz!inner-2.0/bin/true']);
  });

  it('stops at --max-depth and reports what it did not open', async () => {
    const inner = makeTarball(join(tmp.path, 'inner.tar.gz'), { 'bin/true': { copyOf: '/bin/true' } }, 'inner');
    const outer = makeTarball(join(tmp.path, 'outer.tar'), { 'inner.tar.gz': readFileSync(inner) });
    const result = await scanArchive(outer, { maxDepth: 0 });
    expect(result.findings).toEqual([]);
    expect(result.unscanned).toEqual([
      { archive: 'outer.tar', member: 'pkg-1.0/inner.tar.gz', reason: 'gzip nested deeper than --max-depth 0' },
    ]);
  });

  it('reports a corrupt nested archive as unscanned and keeps going', async () => {
    const inner = readFileSync(makeTarball(join(tmp.path, 'inner.tar.gz'), { 'a.txt': 'x'.repeat(100_000) }, 'inner'));
    const outer = makeTarball(join(tmp.path, 'outer.tar.gz'), {
      'tests/bad.tar.gz': inner.subarray(0, inner.length - 20),
      'z/true': { copyOf: '/bin/true' },
    });
    const result = await scanArchive(outer);
    expect(result.unscanned).toHaveLength(1);
    expect(result.unscanned[0]!.member).toBe('pkg-1.0/tests/bad.tar.gz');
    expect(result.unscanned[0]!.reason).toMatch(/gzip|end of file|truncated/i);
    expect(result.findings.map((f) => f.member)).toEqual(['pkg-1.0/z/true']);
  });

  it('reads zip files entry by entry, including a jar of class files inside a tarball', async (ctx) => {
    needsTool(ctx, 'zip');
    const classFile = Buffer.from('cafebabe00000034000a', 'hex');
    const src = writeTree(join(tmp.path, 'jar-src'), { 'org/x/Main.class': Buffer.concat([classFile, Buffer.alloc(64)]) });
    execFileSync('zip', ['-qr', join(tmp.path, 'lib.jar'), '.'], { cwd: src });
    const zipSrc = writeTree(join(tmp.path, 'zip-src'), { 'README': 'hi\n', 'lib/lib.jar': readFileSync(join(tmp.path, 'lib.jar')) });
    execFileSync('zip', ['-qr', join(tmp.path, 'pkg.zip'), '.'], { cwd: zipSrc });
    const direct = await scanArchive(join(tmp.path, 'pkg.zip'));
    expect(direct.format).toBe('zip');
    expect(direct.findings.map((f) => [f.member, f.kind])).toEqual([['lib/lib.jar!org/x/Main.class', 'java-class']]);
    const outer = makeTarball(join(tmp.path, 'outer.tar.gz'), { 'pkg.zip': readFileSync(join(tmp.path, 'pkg.zip')) });
    const nested = await scanArchive(outer);
    expect(nested.findings.map((f) => f.member)).toEqual(['pkg-1.0/pkg.zip!lib/lib.jar!org/x/Main.class']);
  });

  it('names a compressed file on its decompressor\'s command line: the tool reads it, not this process', async (ctx) => {
    needsTool(ctx, 'xz');
    const archive = makeTarball(join(tmp.path, 'pkg-1.0.tar.xz'), SOURCE);
    // An xz first on PATH that notes its arguments and what its stdin is, then runs the real one.
    const bin = join(tmp.path, 'bin');
    const noted = join(tmp.path, 'noted');
    mkdirSync(bin);
    const realXz = execFileSync('sh', ['-c', 'command -v xz'], { encoding: 'utf8' }).trim();
    writeFileSync(join(bin, 'xz'), `#!/bin/sh\nprintf '%s\\n' "$*" "$(readlink /proc/$$/fd/0)" > '${noted}'\nexec '${realXz}' "$@"\n`, { mode: 0o755 });
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path}`;
    try {
      expect((await scanArchive(archive)).members).toBe(3);
    } finally {
      process.env.PATH = path;
    }
    const [args, stdin] = readFileSync(noted, 'utf8').split('\n');
    expect(args).toMatch(new RegExp(`^-dc -T\\d -- ${archive}$`));
    expect(stdin).toBe('/dev/null');
  });

  it('reads a squashfs image through unsquashfs -pf without extracting it', async (ctx) => {
    needsTool(ctx, 'mksquashfs', 'squashfs-tools');
    const src = writeTree(join(tmp.path, 'sq'), {
      'profiles/repo_name': 'gentoo\n',
      'dir with space/tool "q"': { copyOf: '/bin/true' },
      'empty': '',
      'z/last.txt': 'end\n',
    });
    execFileSync('ln', [join(src, 'z/last.txt'), join(src, 'z/hardlink')]);
    execFileSync('mksquashfs', [src, join(tmp.path, 'repo.sqfs'), '-quiet', '-noappend', '-no-progress']);
    const result = await scanArchive(join(tmp.path, 'repo.sqfs'));
    expect(result.format).toBe('squashfs');
    expect(result.findings.map((f) => [f.member, f.kind, f.size])).toEqual([['dir with space/tool "q"', 'elf', statSync('/bin/true').size]]);
    expect(result.members).toBe(4);
  });

  it('turns a broken squashfs image into an ArchiveError with unsquashfs\'s reason', async (ctx) => {
    needsTool(ctx, 'unsquashfs', 'squashfs-tools');
    const file = join(tmp.path, 'bad.sqfs');
    writeFileSync(file, Buffer.concat([Buffer.from('hsqs'), Buffer.alloc(4096, 7)]));
    await expect(scanArchive(file)).rejects.toThrow(/unsquashfs/);
  });

  it('throws ArchiveError naming the problem for a truncated tarball', async () => {
    const archive = makeTarball(join(tmp.path, 'broken.tar.gz'), { 'big.txt': 'y'.repeat(300_000) + Math.random() });
    truncateSync(archive, statSync(archive).size - 100);
    const error = await scanArchive(archive).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as ArchiveError).message).toMatch(/end of file|truncat/i);
  });

  it('throws ArchiveError for a file named like a tarball that is not one', async () => {
    const file = join(tmp.path, 'fake.tar.xz');
    writeFileSync(file, 'just text\n');
    await expect(scanArchive(file)).rejects.toThrow(/not a tar archive although its name says so/);
  });

  it('classifies a lone non-archive file as a single member', async () => {
    const file = join(tmp.path, 'stage0-posix-seed');
    writeFileSync(file, readFileSync('/bin/true'));
    const result = await scanArchive(file);
    expect(result.format).toBe('file');
    expect(result.findings).toMatchObject([{ member: 'stage0-posix-seed', kind: 'elf' }]);
  });
});
