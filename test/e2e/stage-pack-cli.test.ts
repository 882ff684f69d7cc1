import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { cliPath, isRoot, needsRoot } from '../helpers/env.js';
import { makeSeedTree, stageTempDir } from '../helpers/stage-tree.js';

let base: { path: string; remove: () => void } | undefined;
let root = '';
beforeAll(() => {
  if (!isRoot) return;
  base = stageTempDir('bootstrap-stage-e2e-');
  root = join(base.path, 'root');
  makeSeedTree(root);
});
afterAll(() => base?.remove());

function freshOut(name: string): string {
  const dir = join(base!.path, `out-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir);
  return join(dir, name);
}

describe('bootstrap pack', () => {
  it('packs a tree with plain progress and prints size, entries and the sha512 digest', async (ctx) => {
    needsRoot(ctx);
    const out = freshOut('stage3-bootstrap.tar.xz');
    const result = await cli(['pack', '--root', root, '--out', out, '--plain'], { env: { SOURCE_DATE_EPOCH: '' } });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Packing .*\n {2}0\.0 MiB of [\d.]+ MiB read \(0%\)\n/);
    expect(result.stdout).toMatch(/read \(100%\)\n/);
    const sha512 = execFileSync('sha512sum', [out], { encoding: 'utf8' }).split(' ')[0];
    expect(result.stdout).toContain(`sha512   ${sha512}\n`);
    const entries = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n').length;
    expect(result.stdout).toContain(`entries  ${entries}\n`);
    expect(result.stdout).toContain('mtimes   as in the tree');
    expect(readdirSync(join(out, '..')).sort()).toEqual(['stage3-bootstrap.tar.xz', 'stage3-bootstrap.tar.xz.CONTENTS.gz', 'stage3-bootstrap.tar.xz.DIGESTS']);
  });

  it('takes the epoch from SOURCE_DATE_EPOCH, adds --exclude to the defaults, and prints one JSON document with --json', async (ctx) => {
    needsRoot(ctx);
    const out = freshOut('seed.tar.zst');
    const result = await cli(['pack', '--root', root, '--out', out, '--exclude', 'etc/old', '--json'], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ path: out, epoch: 1700000000, digestsPath: `${out}.DIGESTS`, contentsPath: `${out}.CONTENTS.gz` });
    expect(doc.integrity).toMatch(/^sha512-/);
    const listing = execFileSync('tar', ['--zstd', '-tvf', out], { encoding: 'utf8', env: { TZ: 'UTC', PATH: '/usr/bin:/bin' } });
    expect(listing).toMatch(/ 2023-11-14 22:13 \.\/etc\/future\n/);
    expect(listing).not.toContain('./etc/old');
    expect(listing).not.toContain('./var/cache/distfiles/gcc-13.tar.xz');
    const all = await cli(['pack', '--root', root, '--out', freshOut('all.tar'), '--no-default-excludes', '--json'], { env: { SOURCE_DATE_EPOCH: '' } });
    expect(all.exitCode).toBe(0);
    const everything = execFileSync('tar', ['-tf', JSON.parse(all.stdout).path], { encoding: 'utf8' });
    expect(everything).toContain('./var/cache/distfiles/gcc-13.tar.xz');
  });

  it('refuses bad input with exit code 2, a message naming the option and a hint, writing nothing', async (ctx) => {
    needsRoot(ctx);
    const dir = join(freshOut('x'), '..');
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--root', join(dir, 'missing'), '--out', join(dir, 's.tar.xz')], {}, /--root .*missing: no such directory/],
      [['--root', join(root, 'etc/passwd'), '--out', join(dir, 's.tar.xz')], {}, /--root .* is not a directory/],
      [['--root', root, '--out', join(dir, 'nodir', 's.tar.xz')], {}, /--out .*: the directory .*nodir does not exist/],
      [['--root', root, '--out', join(root, 'var/tmp/s.tar.xz')], {}, /--out .* is inside the tree being packed/],
      [['--root', root, '--out', join(dir, 's.tar.xz'), '--compress', 'gzip'], {}, /Invalid values:[\s\S]*compress/],
      [['--root', root, '--out', join(dir, 's.tar.xz'), '--compress', 'zstd'], {}, /--out .*: --compress zstd needs a name ending in \.tar\.zst/],
      [['--root', root, '--out', join(dir, 's.tar.xz'), '--epoch', 'yesterday'], {}, /--epoch: "yesterday" is not a whole number/],
      [['--root', root, '--out', join(dir, 's.tar.xz')], { SOURCE_DATE_EPOCH: '-3' }, /SOURCE_DATE_EPOCH: "-3" is not a whole number/],
      [['--root', root, '--out', join(dir, 's.tar.xz'), '--exclude', '../etc'], {}, /--exclude\[0\]: leaves the root/],
    ];
    for (const [args, env, message] of cases) {
      const result = await cli(['pack', ...args], { env });
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/hint: /);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stops on SIGINT with exit code 130 and leaves no file', async (ctx) => {
    needsRoot(ctx);
    const big = join(base!.path, 'big');
    mkdirSync(big);
    const block = Buffer.alloc(1 << 20);
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 7, i);
    for (let i = 0; i < 64; i += 1) writeFileSync(join(big, `blob-${i}`), block.subarray(0, (1 << 20) - i));
    const out = freshOut('big.tar.xz');
    const child = execa(process.execPath, [cliPath, 'pack', '--root', big, '--out', out, '--plain'], { reject: false, env: { NO_COLOR: '1', SOURCE_DATE_EPOCH: '' } });
    let seen = '';
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (/\((?:[1-9]\d?)%\)/.test(seen)) resolve();
      });
      void child.then(() => resolve());
    });
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('interrupted by SIGINT');
    expect(readdirSync(join(out, '..'))).toEqual([]);
  });
});
