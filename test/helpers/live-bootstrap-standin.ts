import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectRoot } from './env.js';
import { serveGitRepository, type TestServer } from './http-server.js';

/**
 * A live-bootstrap stand-in as the lock pins one (docs/live-bootstrap.md): two git
 * repositories made here (the top, holding test/fixtures/live-bootstrap-standin/rootfs.py, and a
 * bootstrap-seeds submodule) served over dumb HTTP on 127.0.0.1 by `server`, so phase 0 fetches
 * them with git; a source and the seeds put in the store by hand (the store hashes them before
 * use); a lock of group live-bootstrap; and a recipe whose phase 0 runs it unless --target is
 * given and whose next phase reads the target.
 */
export interface StandinFixture {
  store: string;
  lock: string;
  recipe: string;
  topCommit: string;
  /** The lock's name of live-bootstrap's own snapshot. */
  topName: string;
  seedsCommit: string;
  seedsName: string;
  /** Package files in build order, as SHA256SUMS.pkgs names them. */
  packages: string[];
}

export const STANDIN_MANIFEST = ['build: alpha-1.0', 'improve: nothing_here', 'build: beta-2.0', 'build: alpha-1.0', 'build: gamma-3.0', 'build: delta-4.0'];
const SOURCE = 'alpha-1.0.tar.gz';

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function sri(data: string | Buffer): string {
  return `sha256-${createHash('sha256').update(data).digest('base64')}`;
}

function write(path: string, text: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_AUTHOR_DATE: '2024-06-25T00:00:00Z', GIT_COMMITTER_DATE: '2024-06-25T00:00:00Z' },
  }).trim();
}

function commitAll(dir: string): string {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'fixture');
  return git(dir, 'rev-parse', 'HEAD');
}

export function makeStandinFixture(dir: string, server: TestServer, options: { recipeTail?: string } = {}): StandinFixture {
  const top = join(dir, 'repos', 'live-bootstrap');
  const seeds = join(dir, 'repos', 'bootstrap-seeds');
  const store = join(dir, 'store');
  mkdirSync(store, { recursive: true });
  // A real (tiny) source tarball: the audit opens it and finds no binaries.
  write(join(dir, 'alpha-src/alpha-1.0/configure'), '#!/bin/sh\necho configured\n');
  const source = execFileSync('tar', ['--create', '--gzip', '--file', '-', '--directory', join(dir, 'alpha-src'), 'alpha-1.0']);

  mkdirSync(top, { recursive: true });
  copyFileSync(join(projectRoot, 'test/fixtures/live-bootstrap-standin/rootfs.py'), join(top, 'rootfs.py'));
  write(join(top, 'steps/manifest'), `${STANDIN_MANIFEST.join('\n')}\n`);
  write(join(top, 'steps/alpha-1.0/sources'), `http://127.0.0.1:9/${SOURCE} ${sha256(source)}\n`);
  write(join(top, 'steps/beta-2.0/files/usr/bin/beta'), '#!/bin/sh\necho beta\n');
  write(join(top, 'steps/gamma-3.0/files/usr/lib/gamma.txt'), 'gamma\n');
  write(join(top, 'steps/delta-4.0/files/usr/libexec/gcc/i386-unknown-linux-musl/README'), 'the triplet the next phases detect\n');
  write(join(top, 'steps/env'), 'PREFIX=/usr\n');
  write(join(seeds, 'POSIX/x86/hex0-seed'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]));
  write(join(seeds, 'POSIX/x86/kaem-optional-seed'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 3]));

  // SHA256SUMS.pkgs as live-bootstrap makes it: a build with --update-checksums.
  const scratch = join(dir, 'sums-run');
  cpSync(top, join(scratch, 'lb'), { recursive: true });
  write(join(scratch, 'lb/distfiles', SOURCE), source);
  execFileSync('python3', ['rootfs.py', '-c', '--external-sources', '--update-checksums', '--no-mount', '-t', join(scratch, 'target')], { cwd: join(scratch, 'lb'), stdio: 'ignore' });
  copyFileSync(join(scratch, 'lb/steps/SHA256SUMS.pkgs'), join(top, 'steps/SHA256SUMS.pkgs'));
  const packages = readFileSync(join(top, 'steps/SHA256SUMS.pkgs'), 'utf8').trim().split('\n').map((l) => l.split(/\s+/)[1]!);

  const topCommit = commitAll(top);
  const seedsCommit = commitAll(seeds);
  const topName = `live-bootstrap-${topCommit.slice(0, 12)}.tar`;
  const seedsName = `bootstrap-seeds-${seedsCommit.slice(0, 12)}.tar`;
  const topUrl = serveGitRepository(server, 'live-bootstrap', top, join(dir, 'served'));
  const seedsUrl = serveGitRepository(server, 'bootstrap-seeds', seeds, join(dir, 'served'));
  write(join(store, SOURCE), source);
  const seedFiles = ['hex0-seed', 'kaem-optional-seed'].map((name) => ({ name, bytes: readFileSync(join(seeds, 'POSIX/x86', name)) }));
  for (const seed of seedFiles) write(join(store, seed.name), seed.bytes);

  const from = `live-bootstrap@${topCommit.slice(0, 7)}`;
  const lock = {
    lockfileVersion: 1,
    distfiles: {
      [topName]: { size: null, integrity: null, urls: [topUrl], kind: 'repo-snapshot', from: `${from}`, group: 'live-bootstrap', git: { commit: topCommit, path: '' } },
      [seedsName]: { size: null, integrity: null, urls: [seedsUrl], kind: 'repo-snapshot', from: `${from}:.gitmodules`, group: 'live-bootstrap', git: { commit: seedsCommit, path: 'seed/stage0-posix/bootstrap-seeds' } },
      [SOURCE]: { size: null, integrity: sri(source), urls: [`http://127.0.0.1:9/${SOURCE}`], kind: 'source', from: `${from}:steps/alpha-1.0/sources`, group: 'live-bootstrap' },
      ...Object.fromEntries(seedFiles.map((s) => [s.name, { size: s.bytes.length, integrity: sri(s.bytes), urls: [`https://127.0.0.1:9/bootstrap-seeds/POSIX/x86/${s.name}`], kind: 'seed', from: `${from}:seed/stage0-posix/bootstrap-seeds`, group: 'live-bootstrap' }])),
    },
  };
  const lockPath = join(dir, 'distfiles.lock');
  writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);

  const recipe = join(dir, 'recipe');
  write(join(recipe, 'recipe.yaml'), `name: standin-chain
version: 1
description: live-bootstrap's stand-in as phase 0, then a phase that reads its output
starting_point: { name: live-bootstrap, root: lb, file: /steps/manifest }
parameters:
  target:
    type: directory
    default: "{{work}}/live-bootstrap/target"
  lb_chost:
    default: i686-unknown-linux-musl
    pattern: "[a-z0-9_]+-[a-z0-9_]+-linux-musl"
    detect: { glob: "{{target}}/usr/libexec/gcc/*-linux-musl" }
roots:
  lb: { path: "{{target}}" }
phases:
${phase0Yaml({ cores: 1 })}
  - id: next
    steps:
      - id: read-target
        kind: run
        root: host
        script: |
          t={{target}}
          echo "next phase on $t with {{raw:lb_chost}}"
          test -d "$t/usr/libexec/gcc/{{raw:lb_chost}}"
${options.recipeTail ?? ''}`);
  return { store, lock: lockPath, recipe, topCommit, topName, seedsCommit, seedsName, packages };
}

/**
 * gentoo-2025's phase 0 as a test recipe's first phase (YAML, indented for `phases:`): left out
 * when `--target` is given, building into `<work>/live-bootstrap/target` otherwise.
 */
export function phase0Yaml(options: { cores: number; stopBefore?: string }): string {
  return `  - id: live-bootstrap
    unless_set: target
    steps:
      - id: live-bootstrap
        kind: live-bootstrap
        root: host
        dir: "{{work}}/live-bootstrap"
        target: "{{target}}"
        cores: "${options.cores}"${options.stopBefore ? `\n        stop_before: ${JSON.stringify(options.stopBefore)}` : ''}`;
}
