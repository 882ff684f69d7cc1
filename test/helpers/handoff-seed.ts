import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Catalyst's DIGESTS text for the given files (BLAKE2B then SHA512 block per file). */
export function digestsFor(paths: string[]): string {
  return paths
    .map((p) => {
      const data = readFileSync(p);
      return ['blake2b512', 'sha512']
        .map((algo, i) => `# ${['BLAKE2B', 'SHA512'][i]} HASH\n${createHash(algo).update(data).digest('hex')}  ${basename(p)}\n`)
        .join('');
    })
    .join('');
}

/**
 * A small but real seed: `tar -cJf` of a tiny tree, its `.CONTENTS.gz` (`tar -tvf` output)
 * and `.DIGESTS` in Catalyst's format. Written here, not with src/stage/, so the hand-off is
 * tested on its own.
 */
export function makeSeed(dir: string, fileName = 'stage3-bootstrap.tar.xz'): string {
  const tree = join(dir, 'seed-tree');
  mkdirSync(join(tree, 'etc/portage'), { recursive: true });
  mkdirSync(join(tree, 'usr/bin'), { recursive: true });
  writeFileSync(join(tree, 'etc/os-release'), 'NAME=Gentoo\n');
  writeFileSync(join(tree, 'usr/bin/hello'), '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const seed = join(dir, fileName);
  const flag = fileName.endsWith('.xz') ? '-J' : fileName.endsWith('.zst') ? '--zstd' : fileName.endsWith('.gz') ? '-z' : fileName.endsWith('.bz2') ? '-j' : '';
  execFileSync('tar', ['-C', tree, '--sort=name', '--numeric-owner', ...(flag ? [flag] : []), '-cf', seed, '.']);
  const listing = execFileSync('tar', ['--xattrs', '-tvf', seed]);
  writeFileSync(`${seed}.CONTENTS.gz`, gzipSync(listing));
  writeFileSync(`${seed}.DIGESTS`, digestsFor([seed, `${seed}.CONTENTS.gz`]));
  return seed;
}
