import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFile } from '../../src/distfiles/hash.js';
import { PIN_ALGORITHMS } from '../../src/distfiles/integrity.js';
import { DistfileStore } from '../../src/distfiles/store.js';
import { cli, journalEvents, mountsUnder } from '../helpers/cli.js';
import { isRoot, projectRoot, tempDir } from '../helpers/env.js';
import { phase0Yaml } from '../helpers/live-bootstrap-standin.js';

/**
 * The real live-bootstrap 1.0 (fcfc7bde) through the product's phase 0: its tree and the
 * submodules x86 needs, as `git archive` tars at the pinned commits, placed from a lock of group
 * live-bootstrap, with steps/manifest cut before `build: mes-0.26.1` (the sources of what
 * follows are out of reach here), run by rootfs.py -c in a private mount namespace without
 * network: stage0-posix's x86 chain from the 256-byte hex0 seed, then live-bootstrap's seed
 * steps (checksum-transcriber, simple-patch). docs/live-bootstrap.md has the timings.
 */
const REAL = process.env.BOOTSTRAP_REAL_INPUTS ?? '/var/cache/bootstrap/real-inputs';
const DISTFILES = join(REAL, 'distfiles');

/** live-bootstrap 1.0 and its submodules (.gitmodules at fcfc7bde and at stage0-posix a779ee60). */
const TREES: Array<{ repo: string; path: string; commit: string; url: string }> = [
  { repo: 'live-bootstrap', path: '', commit: 'fcfc7bdef6fb73f7dceb9e140737aa80989fe0ca', url: 'https://github.com/fosslinux/live-bootstrap' },
  { repo: 'builder-hex0', path: 'builder-hex0', commit: 'a2781242d19e6be891b453d8fa827137ab5db31a', url: 'https://github.com/ironmeld/builder-hex0' },
  { repo: 'stage0-posix', path: 'seed/stage0-posix', commit: 'a779ee607a7921876388e6174419fc86d60e53c4', url: 'https://github.com/oriansj/stage0-posix' },
  { repo: 'M2-Mesoplanet', path: 'seed/stage0-posix/M2-Mesoplanet', commit: '2935751e3b74f468aa846fff844ce96f62d575ac', url: 'https://github.com/oriansj/M2-Mesoplanet.git' },
  { repo: 'M2-Planet', path: 'seed/stage0-posix/M2-Planet', commit: '5c251e67e28e0a441589b9c3f5150758b8034998', url: 'https://github.com/oriansj/M2-Planet.git' },
  { repo: 'M2libc', path: 'seed/stage0-posix/M2libc', commit: '3a700010872697c4be9e3fab3cf707fce706741e', url: 'https://github.com/oriansj/M2libc' },
  { repo: 'bootstrap-seeds', path: 'seed/stage0-posix/bootstrap-seeds', commit: '99a0ee1e544905d4aaace0de3867f13425e502f2', url: 'https://github.com/oriansj/bootstrap-seeds' },
  { repo: 'mescc-tools', path: 'seed/stage0-posix/mescc-tools', commit: '08d5a0679fa4dc00babe02306f1bc50703083389', url: 'https://git.savannah.nongnu.org/git/mescc-tools.git' },
  { repo: 'mescc-tools-extra', path: 'seed/stage0-posix/mescc-tools-extra', commit: '460648be66c4b4e4eeb138b8b88d5d6e0077e79e', url: 'https://github.com/oriansj/mescc-tools-extra' },
  { repo: 'stage0-posix-x86', path: 'seed/stage0-posix/x86', commit: '83508012c952e3aa3f70a89fd7d85d9a1af6f305', url: 'https://github.com/oriansj/stage0-posix-x86.git' },
];
const tarName = (t: (typeof TREES)[number]) => `${t.repo}-${t.commit.slice(0, 12)}.tar`;

const inputsLock = JSON.parse(readFileSync(join(projectRoot, 'test/real/inputs.lock'), 'utf8')) as { distfiles: Record<string, { integrity: string }> };

function sha512(path: string): string {
  return `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
}

function skipReason(): string | undefined {
  if (!isRoot) return 'needs root (rootfs.py -c chroots, in a private mount namespace)';
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import requests'], { stdio: 'ignore' });
  } catch {
    return "needs /usr/bin/python3 with requests (Debian package python3-requests): live-bootstrap's generator imports it";
  }
  for (const tree of TREES) {
    const path = join(DISTFILES, tarName(tree));
    const how = `git archive --format=tar ${tree.commit} of ${tree.url} (test/real/README.md, "live-bootstrap")`;
    if (!existsSync(path)) return `missing ${path}: ${how}`;
    const entry = inputsLock.distfiles[tarName(tree)];
    if (!entry || !entry.integrity.split(' ').includes(sha512(path))) return `${path} does not match test/real/inputs.lock: make it again with ${how}`;
  }
  return undefined;
}

const why = skipReason();

describe.skipIf(why !== undefined)(`real live-bootstrap 1.0 as phase 0, cut before mes${why ? `: ${why}` : ''}`, () => {
  let tmp: ReturnType<typeof tempDir>;
  let work = '';
  let lock = '';
  let store = '';
  let recipe = '';

  beforeAll(async () => {
    tmp = tempDir('bootstrap-real-lb-');
    store = join(tmp.path, 'store');
    // The trees go into the store as `bootstrap fetch` leaves them after fetching each commit
    // from GitHub (out of reach here): the archive under its name, with the store's record of
    // the commit it was made from. Phase 0 trusts a snapshot only with that record.
    const stored = new DistfileStore(store);
    await stored.init();
    const distfiles: Record<string, unknown> = {};
    for (const tree of TREES) {
      const temp = join(store, '.partial', tarName(tree));
      linkSync(join(DISTFILES, tarName(tree)), temp);
      await stored.commit(tarName(tree), temp, (await hashFile(temp, PIN_ALGORITHMS)).digests, { commit: tree.commit });
      distfiles[tarName(tree)] = { size: null, integrity: null, urls: [tree.url], kind: 'repo-snapshot', from: 'live-bootstrap@fcfc7bd:.gitmodules', group: 'live-bootstrap', git: { commit: tree.commit, path: tree.path } };
    }
    lock = join(tmp.path, 'distfiles.lock');
    writeFileSync(lock, `${JSON.stringify({ lockfileVersion: 1, distfiles }, null, 2)}\n`);
    recipe = join(tmp.path, 'recipe');
    mkdirSync(recipe);
    writeFileSync(join(recipe, 'recipe.yaml'), `name: live-bootstrap-first-stage
version: 1
description: live-bootstrap 1.0 from the hex0 seed up to mes, as gentoo-2025's phase 0 runs it
parameters:
  target: { type: directory, default: "{{work}}/live-bootstrap/target" }
phases:
${phase0Yaml({ cores: 2, stopBefore: 'build: mes-0.26.1' })}
`);
    work = join(tmp.path, 'work');
  });
  afterAll(() => tmp?.remove());

  it('builds stage0-posix from the hex0 seed and live-bootstrap\'s first steps, leaving no mount behind', async () => {
    const result = await cli(['run', '--recipe', recipe, '--work', work, '--lock', lock, '--distdir', store, '--plain']);
    const target = join(work, 'live-bootstrap/target');
    expect(result.stderr + result.stdout).toContain('Run finished');
    expect(result.exitCode).toBe(0);
    // hex0 seed -> kaem -> ... -> M2-Planet and the mescc-tools, built in the target.
    for (const tool of ['hex2', 'M1', 'M2-Planet', 'M2-Mesoplanet', 'kaem', 'sha256sum']) expect(existsSync(join(target, 'x86/bin', tool))).toBe(true);
    expect(existsSync(join(target, 'usr/bin/checksum-transcriber'))).toBe(true);
    expect(readdirSync(join(target, 'external/distfiles'))).toEqual([]);
    expect(mountsUnder(target)).toEqual([]);
    const finished = journalEvents(work).find((e) => e.type === 'step-finished') as unknown as { durationMs: number; outcome: { materials: Array<{ digest: { gitCommit: string } }> } };
    expect(finished.outcome.materials.map((m) => m.digest.gitCommit)).toContain(TREES[0]!.commit);
    process.stdout.write(`real live-bootstrap phase 0 (cut before mes): ${(finished.durationMs / 1000).toFixed(0)} s\n`);

    // The output audited against the lock: SHA256SUMS.pkgs as pinned, the manifest cut short,
    // no package yet (none exists before bash 2.05b), the trees' commits in the provenance.
    const audited = await cli(['audit', '--lock', lock, '--distdir', store, '--target', target, '--work', work, '--json']);
    const checks = (JSON.parse(audited.stdout) as { checks: Array<{ section: string; subject: string; check: string; status: string }> }).checks;
    const verdict = (subject: string, check: string) => checks.find((c) => c.subject === subject && c.check === check)?.status;
    expect(verdict('steps/SHA256SUMS.pkgs', 'pinned-sums')).toBe('pass');
    expect(verdict('steps/manifest', 'pinned-manifest')).toBe('warn');
    expect(verdict('external/repo', 'package')).toBe('pass');
    expect(checks.filter((c) => c.check === 'material' && c.status === 'pass')).toHaveLength(TREES.length);
  }, 1_800_000);
});
