import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readMounts } from '../../../src/host/mountinfo.js';
import { packStage, type PackProgress } from '../../../src/stage/pack-stage.js';
import { needsRoot, needsTool } from '../../helpers/env.js';
import { snapshotTree, type PathMeta } from '../../helpers/stage-snapshot.js';
import { EXCLUDED_CONTENT, makeSeedTree, stageTempDir } from '../../helpers/stage-tree.js';

const EPOCH = 2_000_000_000;
const cleanups: Array<() => void> = [];
afterAll(() => {
  for (const c of cleanups.reverse()) c();
});

/** One seed tree for the whole file, built on first use (only by tests that have root). */
let tree: string | undefined;
function seedTree(): string {
  if (!tree) {
    const dir = stageTempDir();
    cleanups.push(dir.remove);
    tree = join(dir.path, 'root');
    mkdirSync(tree);
    makeSeedTree(tree);
  }
  return tree;
}

function outDir(): string {
  const dir = stageTempDir('bootstrap-stage-out-');
  cleanups.push(dir.remove);
  return dir.path;
}

function tar(args: string[]): string {
  return execFileSync('tar', args, { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC' }, maxBuffer: 1 << 28 });
}

function sha512(path: string): string {
  return execFileSync('sha512sum', [path], { encoding: 'utf8' }).split(' ')[0]!;
}

function requireTools(ctx: { skip: (note?: string) => void }): void {
  needsRoot(ctx);
  needsTool(ctx, 'tar');
  needsTool(ctx, 'xz', 'xz-utils');
  needsTool(ctx, 'setcap', 'libcap2-bin');
  needsTool(ctx, 'setfattr', 'attr');
}

describe('packStage', () => {
  it('keeps types, modes, numeric owners, devices, links and xattrs, drops excluded contents, clamps mtimes', async (ctx) => {
    requireTools(ctx);
    const root = seedTree();
    const out = join(outDir(), 'stage3-test.tar.xz');
    const events: PackProgress[] = [];
    const result = await packStage({ root, out, epoch: EPOCH, onProgress: (e) => events.push(e) });

    expect(result.path).toBe(out);
    expect(result.size).toBe(statSync(out).size);
    expect(result.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(Buffer.from(result.integrity.slice(7), 'base64').toString('hex')).toBe(sha512(out));
    expect(events.length).toBeGreaterThanOrEqual(2);
    const last = events[events.length - 1]!;
    expect(last.bytesRead).toBe(last.estimatedTotal);

    // No names, only numbers; a listing line per member.
    const listing = tar(['--xattrs', '-tvf', out]);
    expect(result.entries).toBe(listing.trim().split('\n').length);
    // The mode is followed by `*` when the member carries xattrs tar lists.
    expect(listing).toMatch(/^-rw-r--r-- +4321\/8765 .* \.\/home\/builder\/notes\.txt$/m);
    expect(listing).toMatch(/^crw-rw-rw- +0\/0 +1,3 .* \.\/dev\/null$/m);
    expect(listing).toMatch(/^prw------- +0\/0 .* \.\/var\/lib\/misc\/fifo$/m);
    expect(listing).toMatch(/^-rwsr-xr-x +0\/0 .* \.\/usr\/local\/bin\/suid-tool$/m);
    expect(listing).toMatch(/^-rwx--s--x +0\/0 .* \.\/usr\/local\/bin\/sgid-tool$/m);
    expect(listing).toMatch(/^-rw-r--r--\* 0\/0 .* \.\/usr\/local\/bin\/paxmarked$/m);
    expect(listing).toMatch(/^hrwxr-xr-x +0\/0 .* \.\/usr\/bin\/busybox-hardlink link to \.\/bin\/busybox$/m);
    expect(listing).toMatch(/^lrwxrwxrwx +0\/0 .* \.\/usr\/local\/bin\/dangling -> \/nonexistent\/target$/m);
    const verbose = tar(['--xattrs', '--xattrs-include=*', '-tvvf', out]);
    expect(verbose).toMatch(/\.\/usr\/local\/bin\/ping-cap\n +x: +\d+ security\.capability\n/);
    expect(listing).not.toMatch(/root\/root|PaxHeaders\.\d/);
    // Directories under the default excludes stay, their contents go.
    for (const dir of ['./var/cache/distfiles/', './var/db/repos/', './var/tmp/']) expect(listing).toContain(` ${dir}\n`);
    for (const gone of EXCLUDED_CONTENT) expect(listing).not.toContain(gone);

    // Extracted again, everything but the excluded contents is as it was, mtimes clamped to the epoch.
    const dest = join(outDir(), 'x');
    mkdirSync(dest);
    // The epoch is in the future, which tar would warn about on stderr.
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--warning=no-timestamp', '-xpf', out, '-C', dest]);
    const want = new Map<string, PathMeta>();
    for (const [path, meta] of snapshotTree(root)) {
      if (EXCLUDED_CONTENT.some((e) => path === e || path.startsWith(`${e}/`))) continue;
      want.set(path, { ...meta, mtime: Math.min(meta.mtime, EPOCH) });
    }
    const got = snapshotTree(dest);
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
    expect(got.get('./etc/future')!.mtime).toBe(EPOCH);
    expect(got.get('./etc/old')!.mtime).toBe(1_000_000_000);
    expect(statSync(join(dest, 'usr/bin/busybox-hardlink')).ino).toBe(statSync(join(dest, 'bin/busybox')).ino);
    expect(execFileSync('getcap', [join(dest, 'usr/local/bin/ping-cap')], { encoding: 'utf8' })).toMatch(/cap_net_raw[=+]ep/);
    expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'user.pax.flags', join(dest, 'usr/local/bin/paxmarked')], { encoding: 'utf8' })).toBe('em');
  });

  it('writes mtimes to the second in the header; only a tree with one the header cannot hold gets them all as pax records, and says so', async (ctx) => {
    requireTools(ctx);
    const dir = stageTempDir('bootstrap-stage-mtimes-');
    cleanups.push(dir.remove);
    const root = join(dir.path, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/fraction'), 'a quarter second past\n');
    utimesSync(join(root, 'etc/fraction'), 1_600_000_000.25, 1_600_000_000.25);
    const mtimeOf = (tarball: string, path: string): number => {
      const dest = join(outDir(), 'x');
      mkdirSync(dest);
      execFileSync('tar', ['-xpf', tarball, '-C', dest]);
      return statSync(join(dest, path)).mtimeMs / 1000;
    };

    const whole = await packStage({ root, out: join(outDir(), 'whole.tar') });
    expect(readFileSync(whole.path).includes('mtime=')).toBe(false);
    expect(mtimeOf(whole.path, 'etc/fraction')).toBe(1_600_000_000);
    expect(whole.warnings).toEqual([]);

    // Before 1970: without a record of it, GNU tar would write 1970 and say nothing.
    writeFileSync(join(root, 'etc/ancient'), 'from 1960\n');
    // touch(1): Node's utimes takes a time before 1970 for now.
    execFileSync('touch', ['-d', '@-315619200', join(root, 'etc/ancient')]);
    const precise = await packStage({ root, out: join(outDir(), 'precise.tar') });
    const bytes = readFileSync(precise.path);
    expect(bytes.includes('mtime=-315619200')).toBe(true);
    expect(bytes.includes('mtime=1600000000.25')).toBe(true);
    expect(mtimeOf(precise.path, 'etc/ancient')).toBe(-315_619_200);
    expect(mtimeOf(precise.path, 'etc/fraction')).toBe(1_600_000_000.25);
    expect(precise.warnings).toEqual([expect.stringMatching(/^\.\/etc\/ancient in .* has an mtime before 1970 or after 2242/)]);
  });

  it('gives the same bytes for two packs of the tree and for a cp -a copy of it', async (ctx) => {
    requireTools(ctx);
    const root = seedTree();
    const dir = outDir();
    const copy = join(dir, 'copy');
    execFileSync('cp', ['-a', root, copy]);
    for (const d of ['a', 'b', 'c']) mkdirSync(join(dir, d));
    const a = await packStage({ root, out: join(dir, 'a', 'seed.tar.xz'), epoch: EPOCH });
    const b = await packStage({ root, out: join(dir, 'b', 'seed.tar.xz'), epoch: EPOCH });
    const c = await packStage({ root: copy, out: join(dir, 'c', 'seed.tar.xz'), epoch: EPOCH });
    expect(b.integrity).toBe(a.integrity);
    expect(c.integrity).toBe(a.integrity);
    expect(readFileSync(c.path).equals(readFileSync(a.path))).toBe(true);
    expect(readFileSync(c.contentsPath).equals(readFileSync(a.contentsPath))).toBe(true);
    expect(readFileSync(c.digestsPath, 'utf8')).toBe(readFileSync(a.digestsPath, 'utf8'));
  });

  it('writes DIGESTS that sha512sum -c and b2sum -c accept, and CONTENTS.gz equal to tar --xattrs -tvf', async (ctx) => {
    requireTools(ctx);
    needsTool(ctx, 'b2sum', 'coreutils');
    const dir = outDir();
    const result = await packStage({ root: seedTree(), out: join(dir, 'stage3-amd64.tar.xz') });
    expect(result.digestsPath).toBe(join(dir, 'stage3-amd64.tar.xz.DIGESTS'));
    expect(result.contentsPath).toBe(join(dir, 'stage3-amd64.tar.xz.CONTENTS.gz'));
    const digests = readFileSync(result.digestsPath, 'utf8');
    const lines = digests.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('#'))).toEqual(['# BLAKE2B HASH', '# SHA512 HASH', '# BLAKE2B HASH', '# SHA512 HASH']);
    expect(lines[1]).toMatch(/^[0-9a-f]{128}  stage3-amd64\.tar\.xz$/);
    expect(lines[7]).toMatch(/^[0-9a-f]{128}  stage3-amd64\.tar\.xz\.CONTENTS\.gz$/);
    const under = (header: string) => lines.filter((_, i) => lines[i - 1] === header).join('\n') + '\n';
    for (const [tool, header] of [['sha512sum', '# SHA512 HASH'], ['b2sum', '# BLAKE2B HASH']] as const) {
      const check = execFileSync(tool, ['-c', '-'], { cwd: dir, input: under(header), encoding: 'utf8' });
      expect(check).toBe('stage3-amd64.tar.xz: OK\nstage3-amd64.tar.xz.CONTENTS.gz: OK\n');
    }
    const contents = gunzipSync(readFileSync(result.contentsPath)).toString('utf8');
    expect(contents).toBe(tar(['--xattrs', '-tvf', result.path]));
    // gzip -n: no file name, no time in the header.
    const header = readFileSync(result.contentsPath).subarray(0, 10);
    expect(header.readUInt32LE(4)).toBe(0);
    expect(header[3]! & 0x08).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['stage3-amd64.tar.xz', 'stage3-amd64.tar.xz.CONTENTS.gz', 'stage3-amd64.tar.xz.DIGESTS']);
  });

  it('applies given excludes instead of the defaults, anchored at the root', async (ctx) => {
    requireTools(ctx);
    const result = await packStage({ root: seedTree(), out: join(outDir(), 's.tar'), exclude: ['/usr/local/bin/*', 'etc/passwd', 'bin'] });
    const listing = tar(['-tf', result.path]).split('\n');
    expect(listing).toContain('./usr/local/bin/');
    expect(listing.filter((l) => l.startsWith('./usr/local/bin/') && l !== './usr/local/bin/')).toEqual([]);
    expect(listing).not.toContain('./etc/passwd');
    expect(listing).toContain('./etc/group');
    expect(listing.filter((l) => l === './bin/' || l.startsWith('./bin/'))).toEqual([]);
    expect(listing).toContain('./usr/bin/');
    // Defaults replaced: the distfiles are in.
    expect(listing).toContain('./var/cache/distfiles/gcc-13.tar.xz');
  });

  it('does not descend into a filesystem mounted inside the tree, nor into a bind mount of its own', async (ctx) => {
    requireTools(ctx);
    const dir = stageTempDir();
    cleanups.push(dir.remove);
    const root = join(dir.path, 'root');
    const tmpfsPoint = join(root, 'mnt', 'inner');
    const bindPoint = join(root, 'mnt', 'bound [1]');
    const elsewhere = join(dir.path, 'elsewhere');
    for (const d of [tmpfsPoint, bindPoint, elsewhere]) mkdirSync(d, { recursive: true });
    writeFileSync(join(root, 'kept'), 'kept\n');
    writeFileSync(join(elsewhere, 'bound-file'), 'on the same filesystem, but not part of the tree\n');
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'bootstrap-test', tmpfsPoint]);
      execFileSync('mount', ['--bind', elsewhere, bindPoint]);
      writeFileSync(join(tmpfsPoint, 'on-tmpfs'), 'must not be packed\n');
      // A deadline of its own, so that the finally below always runs and unmounts.
      const result = await packStage({ root, out: join(outDir(), 'm.tar.zst'), exclude: [], signal: AbortSignal.timeout(60_000) });
      const listing = tar(['--zstd', '-tf', result.path]).split('\n');
      expect(listing).toContain('./kept');
      expect(listing).toContain('./mnt/inner/');
      expect(listing).toContain('./mnt/bound [1]/');
      expect(listing.join('\n')).not.toMatch(/on-tmpfs|bound-file/);
      expect(result.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/\/mnt\/inner is a mount point \(tmpfs\): its contents are left out/),
          expect.stringMatching(/\/mnt\/bound \[1\] is a mount point \(ext4|\/mnt\/bound \[1\] is a mount point/),
        ]),
      );
    } finally {
      for (const point of [bindPoint, tmpfsPoint]) {
        if (readMounts().some((m) => m.mountPoint === point)) execFileSync('umount', [point]);
      }
    }
  });

  it('packs with zstd and with no compression', async (ctx) => {
    requireTools(ctx);
    needsTool(ctx, 'zstd');
    const dir = outDir();
    const zst = await packStage({ root: seedTree(), out: join(dir, 'seed.tar.zst'), epoch: EPOCH });
    const plain = await packStage({ root: seedTree(), out: join(dir, 'seed.tar'), compress: 'none', epoch: EPOCH });
    expect(readFileSync(zst.path).subarray(0, 4).toString('hex')).toBe('28b52ffd');
    const unpacked = execFileSync('zstd', ['-dc', zst.path], { maxBuffer: 1 << 28 });
    expect(unpacked.equals(readFileSync(plain.path))).toBe(true);
    expect(zst.entries).toBe(plain.entries);
    const again = await packStage({ root: seedTree(), out: join(outDir(), 'seed.tar.zst'), epoch: EPOCH });
    expect(again.integrity).toBe(zst.integrity);
  });

  it('leaves nothing under the final names when aborted, and keeps an older tarball there', async (ctx) => {
    requireTools(ctx);
    const dir = stageTempDir();
    cleanups.push(dir.remove);
    const root = join(dir.path, 'root');
    mkdirSync(root);
    // Enough data that xz is still busy when the abort comes.
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 7, i);
    for (let i = 0; i < 48; i += 1) writeFileSync(join(root, `blob-${i}`), block.subarray(0, (1 << 20) - i));
    const out = join(outDir(), 'seed.tar.xz');
    writeFileSync(out, 'an older seed\n');
    const controller = new AbortController();
    const packing = packStage({
      root,
      out,
      signal: controller.signal,
      onProgress: (e) => {
        if (e.bytesRead > 0) controller.abort(new Error('stop'));
      },
    });
    await expect(packing).rejects.toThrow('stop');
    expect(readFileSync(out, 'utf8')).toBe('an older seed\n');
    expect(readdirSync(join(out, '..'))).toEqual(['seed.tar.xz']);
  });

  it('refuses bad input before writing anything', async (ctx) => {
    requireTools(ctx);
    const root = seedTree();
    const dir = outDir();
    await expect(packStage({ root: join(dir, 'missing'), out: join(dir, 's.tar.xz') })).rejects.toMatchObject({ code: 'EPACK_ROOT' });
    writeFileSync(join(dir, 'file'), '');
    await expect(packStage({ root: join(dir, 'file'), out: join(dir, 's.tar.xz') })).rejects.toMatchObject({ code: 'EPACK_ROOT' });
    await expect(packStage({ root: '/', out: join(dir, 's.tar.xz') })).rejects.toMatchObject({ code: 'EPACK_ROOT' });
    await expect(packStage({ root, out: join(dir, 'nodir', 's.tar.xz') })).rejects.toMatchObject({ code: 'EPACK_OUT' });
    await expect(packStage({ root, out: join(root, 'var/tmp/s.tar.xz') })).rejects.toMatchObject({ code: 'EPACK_OUT' });
    await expect(packStage({ root, out: join(dir, 's.tar.gz') })).rejects.toMatchObject({ code: 'EPACK_SUFFIX' });
    await expect(packStage({ root, out: join(dir, 's.tar.xz'), compress: 'zstd' })).rejects.toMatchObject({ code: 'EPACK_SUFFIX' });
    await expect(packStage({ root, out: join(dir, 's.tar.xz'), epoch: -1 })).rejects.toMatchObject({ code: 'EPACK_EPOCH' });
    await expect(packStage({ root, out: join(dir, 's.tar.xz'), exclude: ['../etc'] })).rejects.toMatchObject({ code: 'EPACK_EXCLUDE' });
    expect(readdirSync(dir)).toEqual(['file']);
    expect(existsSync(join(root, 'var/tmp/s.tar.xz'))).toBe(false);
  });
});
