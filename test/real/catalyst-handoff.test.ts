import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RELENG_COMMIT } from '../../src/handoff/guide-edits.js';
import { handoff, type HandoffResult } from '../../src/handoff/handoff.js';
import { isRoot, projectRoot, tempDir } from '../helpers/env.js';
import { makeSeed } from '../helpers/handoff-seed.js';

/**
 * The real tier of the Catalyst hand-off: the hand-off run on the pinned releng snapshot
 * (gentoo/releng 87eea8b6, the guide's date), its output diffed against releng plus the guide's
 * edits, and every generated file loaded by Catalyst's own code (4.0.0, the guide's era, and
 * 4.1.1). releng, Catalyst, snakeoil, pyDeComp and Portage are third-party: they are read from
 * $BOOTSTRAP_REAL_INPUTS/distfiles (test/real/README.md, "Catalyst"), never from this repository.
 */

const REAL = process.env.BOOTSTRAP_REAL_INPUTS ?? '/var/cache/bootstrap/real-inputs';
const DISTFILES = join(REAL, 'distfiles');
const RELENG = `releng-${RELENG_COMMIT}.tar.bz2`;
const CATALYSTS = ['catalyst-4.0.0', 'catalyst-4.1.1'];
const PYTHON_DEPS = ['snakeoil-0.10.11.tar.gz', 'pyDeComp-0.3.tar.gz', 'portage-3.0.66.1.tar.bz2'];
/** The test Gentoo tree's squashfs: stands in for `catalyst --snapshot`'s output. */
const SNAPSHOT = 'gentoo-test-20250101.xz.sqfs';
const PYTHON = '/usr/bin/python3';
const TREEISH = 'd55448fdd9e8e82386e9b121e4b637b03e59a0f8';

const testLock = JSON.parse(readFileSync(join(projectRoot, 'test/real/inputs.lock'), 'utf8')) as { distfiles: Record<string, { integrity: string }> };

/** Why a real input cannot be used (missing, or not what the test lock pins), or undefined. */
function inputProblem(name: string): string | undefined {
  const path = join(DISTFILES, name);
  if (!existsSync(path)) return `missing ${path} (test/real/README.md, "Catalyst", says how to make it; BOOTSTRAP_REAL_INPUTS names the folder)`;
  const sha512 = `sha512-${createHash('sha512').update(readFileSync(path)).digest('base64')}`;
  if (!testLock.distfiles[name]?.integrity.split(' ').includes(sha512)) return `${path} does not match test/real/inputs.lock: make it again as test/real/README.md says`;
  return undefined;
}

/**
 * Loads catalyst.conf with Catalyst's own loader (catalyst.main.parse_config, which exits on a
 * key outside defaults.valid_config_file_values) and constructs each spec's target the way
 * catalyst.main.build_target does: SpecParser, then the target class, whose constructor runs
 * addl_arg_parse against the target's required_values and valid_values (with StageBase's), the
 * arch lookup, the (de)compressor setup, the seed lookup in $storedir/builds and the
 * portage_confdir and distdir checks. The build itself (target.run()) is not started.
 * After each target, an empty file stands in for its output where Catalyst would write it, so
 * the next target's source_subpath lookup shows that the chain of specs connects.
 *
 * Catalyst's stagebase imports util-linux's Python binding `libmount` (not in Debian); its
 * constructor mounts the repository snapshot (in a private mount namespace) to read the
 * repository's name. A stand-in module runs util-linux's mount(8) with the same source, target,
 * type and options, so that step runs for real, on the test Gentoo tree's squashfs placed as the
 * spec's snapshot `$storedir/snapshots/gentoo-<treeish>.sqfs`.
 */
const CHECK_PY = String.raw`
import hashlib, json, os, subprocess, sys, types

class _Context:
    # Stand-in for util-linux's libmount.Context: util-linux's mount(8) with the same arguments.
    def __init__(self, source=None, target=None, fstype=None, options=None):
        self.argv = ['mount'] + (['-t', fstype] if fstype else []) + (['-o', options] if options else []) + [str(source), str(target)]
    def mount(self):
        subprocess.run(self.argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
libmount = types.ModuleType('libmount')
libmount.Context = _Context
sys.modules['libmount'] = libmount

import catalyst.config
import catalyst.main as main
from catalyst.support import CatalystError
from DeComp.definitions import COMPRESS_DEFINITIONS, DECOMPRESS_DEFINITIONS, CONTENTS_DEFINITIONS
from DeComp.contents import ContentsMap

conf_file, sharedir, spec = sys.argv[1], sys.argv[2], sys.argv[3]
main.parse_config([conf_file])
conf = main.conf_values
# Where Catalyst is installed (its arch/*.toml and targets/ scripts): the unpacked source here.
conf['sharedir'] = sharedir
conf['shdir'] = sharedir + '/targets'
conf['DEBUG'] = False
conf['VERBOSE'] = False
conf['contents_map'] = ContentsMap(CONTENTS_DEFINITIONS, comp_prog=conf['comp_prog'], decomp_opt=conf['decomp_opt'], list_xattrs_opt=conf['list_xattrs_opt'])
conf['decompress_definitions'] = DECOMPRESS_DEFINITIONS
conf['compress_definitions'] = COMPRESS_DEFINITIONS
if 'digests' in conf:
    bad = set(conf['digests']) - hashlib.algorithms_available
    if bad:
        print(json.dumps({'conf': conf_file, 'error': 'invalid digests: ' + ', '.join(sorted(bad))}))
        sys.exit(1)
    conf['digests'] = set(conf['digests'])
print(json.dumps({'conf': conf_file, 'options': sorted(conf['options'])}))

if True:
    values = catalyst.config.SpecParser(spec).get_values()
    name = values['target'].replace('-', '_')
    module = __import__('catalyst.targets.' + name, [], [], ['not empty'])
    try:
        # catalyst.main passes its conf_values itself (one target per run); a copy per spec here.
        myspec = dict(conf)
        myspec['options'] = list(conf['options'])
        target = getattr(module, name)(myspec, values)
    except CatalystError as e:
        print(json.dumps({'spec': spec, 'error': str(e)}))
        sys.exit(1)
    s = target.settings
    out = s['target_path'].rstrip('/')
    if name in ('stage1', 'stage2', 'stage3', 'stage4', 'livecd_stage1'):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        open(out + '.tar.xz', 'w').close()
    print(json.dumps({
        'spec': spec,
        'target': values['target'],
        'keys': sorted(values),
        'required': sorted(target.required_values),
        'source_path': str(s.get('source_path')),
        'target_path': out,
        'snapshot': str(target.snapshot),
        'repos': [[str(path), repo_name] for path, repo_name, _ in target.repos],
        'iso': s.get('iso'),
    }))
`;

let skipReason: string | undefined;
let catalystSkip: string | undefined;
let tmp: ReturnType<typeof tempDir>;
let result: HandoffResult;
let storedir = '';
let relengDir = '';
let pythonPath: Record<string, string> = {};

beforeAll(() => {
  skipReason = inputProblem(RELENG);
  if (skipReason) return;
  tmp = tempDir('catalyst-real-');
  relengDir = join(tmp.path, 'releng');
  mkdirSync(relengDir);
  execFileSync('tar', ['-xf', join(DISTFILES, RELENG), '-C', relengDir, '--strip-components=1']);

  catalystSkip = [...CATALYSTS.map((c) => `${c}.tar.bz2`), ...PYTHON_DEPS, SNAPSHOT].map(inputProblem).find((p) => p !== undefined);
  if (!catalystSkip && !isRoot) catalystSkip = 'needs root: Catalyst\'s constructor mounts the snapshot squashfs (CI runs as root)';
  if (!catalystSkip) {
    const deps = spawnSync(PYTHON, ['-c', 'import tomli, fasteners, lazy_object_proxy'], { encoding: 'utf8' });
    if (deps.status !== 0) catalystSkip = `${PYTHON} cannot import tomli, fasteners and lazy_object_proxy: install Debian's python3-tomli python3-fasteners python3-lazy-object-proxy (.ci/run does)`;
  }
  if (!catalystSkip) {
    const code = join(tmp.path, 'code');
    mkdirSync(code);
    for (const file of [...CATALYSTS.map((c) => `${c}.tar.bz2`), ...PYTHON_DEPS]) execFileSync('tar', ['-xf', join(DISTFILES, file), '-C', code]);
    const common = [join(code, 'snakeoil-0.10.11/src'), join(code, 'pyDeComp-0.3'), join(code, 'portage-3.0.66.1/lib')];
    pythonPath = Object.fromEntries(CATALYSTS.map((c) => [c, [join(code, c), ...common].join(':')]));
    writeFileSync(join(tmp.path, 'check.py'), CHECK_PY);
  }
});

afterAll(() => tmp?.remove());

async function handOff(dir: string, extra: Partial<Parameters<typeof handoff>[0]> = {}): Promise<HandoffResult> {
  mkdirSync(join(dir, 'out'), { recursive: true });
  mkdirSync(join(dir, 'distfiles'), { recursive: true });
  return handoff({
    seed: makeSeed(join(dir, 'out')),
    storedir: join(dir, 'catalyst'),
    distdir: join(dir, 'distfiles'),
    releng: join(DISTFILES, RELENG),
    treeish: TREEISH,
    timestamp: '2025-06-12',
    jobs: 4,
    ...extra,
  });
}

/** check.py with `catalyst`'s code on PYTHONPATH, for one catalyst.conf and one spec. */
function runCheck(catalyst: string, conf: string, spec: string) {
  return spawnSync(PYTHON, [join(tmp.path, 'check.py'), conf, join(tmp.path, 'code', catalyst), spec], {
    encoding: 'utf8',
    cwd: tmp.path,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PYTHONPATH: pythonPath[catalyst]!, LC_ALL: 'C.UTF-8' },
  });
}

function files(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(dir, join(d, e.name)));
    }
  };
  walk(dir);
  return out.sort();
}

describe('the Catalyst hand-off on the pinned releng snapshot', () => {
  beforeAll(async () => {
    if (skipReason) return;
    storedir = join(tmp.path, 'systemd/catalyst');
    result = await handOff(join(tmp.path, 'systemd'));
    mkdirSync(join(storedir, 'snapshots'));
    linkSync(join(DISTFILES, SNAPSHOT), join(storedir, `snapshots/gentoo-${TREEISH}.sqfs`));
  });

  it('writes releng 87eea8b6 plus the guide\'s edits and filled placeholders, nothing else (diff -r)', (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    // The expectation, restated here independently of src/: releng's files as the guide edits
    // them by hand, then catalyst-auto's sed of the placeholders.
    const expected = join(tmp.path, 'expected');
    const specs = 'releases/specs/amd64';
    const names = ['stage1-systemd-23.spec', 'stage3d-systemd-23.spec', 'installcd-stage1.spec', 'installcd-stage2-minimal.spec'];
    const repo = join(expected, 'releng');
    for (const tree of ['releases/portage/stages', 'releases/portage/isos']) cpSync(join(relengDir, tree), join(repo, tree), { recursive: true });
    cpSync(join(relengDir, 'releases/kconfig/amd64/dist-amd64-livecd.config'), join(repo, 'releases/kconfig/amd64/dist-amd64-livecd.config'));
    for (const n of names) cpSync(join(relengDir, specs, n), join(expected, n));
    const edit = (file: string, from: string, to: string) => {
      const text = readFileSync(file, 'utf8');
      expect(text.split('\n').filter((l) => l === from), `${file}: ${from}`).toHaveLength(1);
      writeFileSync(file, text.split('\n').map((l) => (l === from ? to : l)).join('\n'));
    };
    const append = (file: string, line: string) => writeFileSync(file, `${readFileSync(file, 'utf8')}${line}\n`);
    const stages = join(repo, 'releases/portage/stages');
    const isos = join(repo, 'releases/portage/isos');
    edit(join(stages, 'package.mask/releng/rust'), 'dev-lang/rust', 'dev-lang/rust-bin');
    mkdirSync(join(stages, 'profile'), { recursive: true });
    writeFileSync(join(stages, 'profile/packages.build'), 'dev-lang/rust\n');
    edit(join(stages, 'package.use/releng/circular'), 'net-misc/curl -http2 -http3 -quic -curl_quic_openssl', 'net-misc/curl http2 ssl openssl curl_ssl_openssl');
    append(join(stages, 'package.use/releng/circular'), 'dev-python/pillow -truetype');
    edit(join(expected, 'stage1-systemd-23.spec'), 'source_subpath: 23.0-default/stage3-amd64-systemd-latest', 'source_subpath: default/stage3-bootstrap');
    edit(join(expected, 'installcd-stage1.spec'), 'source_subpath: 23.0-default/stage3-amd64-openrc-@TIMESTAMP@', 'source_subpath: default/stage3-bootstrap');
    append(join(isos, 'package.accept_keywords/admincd-packages'), 'net-libs/mbedtls');
    edit(join(isos, 'package.mask/releng/rust'), 'dev-lang/rust', 'dev-lang/rust-bin');
    edit(join(expected, 'installcd-stage2-minimal.spec'), '\tdev-lang/rust-bin', '\tdev-lang/rust');
    execFileSync('sed', ['-i', '-e', 's:@TIMESTAMP@:2025-06-12:g', '-e', 's:@DATESTAMP@:20250612:g', '-e', `s:@REPO_DIR@:${join(storedir, 'specs/releng')}:g`, '-e', `s:@TREEISH@:${TREEISH}:g`, ...names.map((n) => join(expected, n))]);

    const out = join(storedir, 'specs');
    const diff = spawnSync('diff', ['-r', '-x', '.written-by-bootstrap-handoff', '-x', 'catalyst.conf', expected, out], { encoding: 'utf8' });
    expect(diff.stdout).toBe('');
    expect(diff.status).toBe(0);
    expect(files(out)).toEqual([...files(expected), '.written-by-bootstrap-handoff', 'catalyst.conf', 'releng/.written-by-bootstrap-handoff'].sort());
    // And the other way round: exactly the guide's lines differ from releng (diff -r releng → output).
    const changed = spawnSync('diff', ['-r', join(relengDir, 'releases/portage'), join(out, 'releng/releases/portage')], { encoding: 'utf8' }).stdout;
    expect(changed.split('\n').filter((l) => /^[<>]/.test(l)).sort()).toEqual(
      [
        '< dev-lang/rust', '> dev-lang/rust-bin', // stages rust mask
        '< dev-lang/rust', '> dev-lang/rust-bin', // isos rust mask
        '< net-misc/curl -http2 -http3 -quic -curl_quic_openssl', '> net-misc/curl http2 ssl openssl curl_ssl_openssl', '> dev-python/pillow -truetype',
        '> net-libs/mbedtls',
      ].sort(),
    );
    expect(changed).toContain(`Only in ${join(out, 'releng/releases/portage/stages/profile')}: packages.build`);
    expect(result.edits).toHaveLength(9);
  });

  it('fails naming the file and the expected line when an edit no longer applies (the next releng commit adds the pillow line)', async (ctx) => {
    if (skipReason) ctx.skip(skipReason);
    const newer = join(tmp.path, 'releng-newer');
    cpSync(relengDir, newer, { recursive: true });
    const circular = join(newer, 'releases/portage/stages/package.use/releng/circular');
    writeFileSync(circular, `${readFileSync(circular, 'utf8')}dev-python/pillow -truetype\n`);
    const error = await handOff(join(tmp.path, 'stale'), { releng: newer }).then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'EHANDOFF_EDIT_STALE' });
    expect((error as Error).message).toContain('releases/portage/stages/package.use/releng/circular');
    expect((error as Error).message).toContain('dev-python/pillow -truetype');
    writeFileSync(join(newer, 'releases/portage/isos/package.mask/releng/rust'), '# upstream changed this\n>=dev-lang/rust-1.80\n');
    const error2 = await handOff(join(tmp.path, 'stale2'), { releng: newer }).then(() => undefined, (e: unknown) => e);
    expect((error2 as { expected?: string }).expected ?? (error2 as Error).message).toBeTruthy();
    expect(existsSync(join(tmp.path, 'stale/catalyst/specs'))).toBe(false);
  });

  for (const catalyst of CATALYSTS) {
    it(`${catalyst}'s own config loader and spec parser accept catalyst.conf and every spec, and each target's constructor finds its source`, (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      if (catalystSkip) ctx.skip(catalystSkip);
      // One Python process per spec, as `catalyst -c catalyst.conf -f <spec>` runs one target.
      const targets = result.specs.map((spec) => {
        const check = runCheck(catalyst, result.confPath, spec.path);
        expect(check.status, `${check.stdout}\n${check.stderr}`).toBe(0);
        const lines = check.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines[0]).toMatchObject({ conf: result.confPath, options: ['autoresume', 'kerncache', 'pkgcache', 'seedcache'] });
        return lines[1]!;
      });
      expect(targets.map((t) => t.target)).toEqual(['stage1', 'stage3', 'livecd-stage1', 'livecd-stage2']);
      const builds = join(storedir, 'builds');
      // The seed, then each target's output, is where the next spec's source_subpath finds it.
      expect(targets.map((t) => t.source_path)).toEqual([
        join(builds, 'default/stage3-bootstrap.tar.xz'),
        join(builds, '23.0-default/stage1-amd64-systemd-2025-06-12.tar.xz'),
        join(builds, 'default/stage3-bootstrap.tar.xz'),
        join(builds, '23.0-default/livecd-stage1-amd64-2025-06-12.tar.xz'),
      ]);
      expect(targets.map((t) => t.target_path)).toEqual([
        join(builds, '23.0-default/stage1-amd64-systemd-2025-06-12'),
        join(builds, '23.0-default/stage3-amd64-desktop-systemd-2025-06-12'),
        join(builds, '23.0-default/livecd-stage1-amd64-2025-06-12'),
        join(builds, '23.0-default/livecd-stage2-amd64-2025-06-12'),
      ]);
      for (const t of targets) {
        expect(t.snapshot).toBe(join(storedir, `snapshots/gentoo-${TREEISH}.sqfs`));
        // Catalyst mounted the snapshot and read the repository's name from it.
        expect(t.repos).toEqual([[join(storedir, `snapshots/gentoo-${TREEISH}.sqfs`), 'gentoo']]);
      }
      expect(targets[3]!.iso).toBe(join(builds, '23.0-default/install-amd64-minimal-2025-06-12.iso'));
      // Clean up the stand-in outputs for the next Catalyst version.
      execFileSync('rm', ['-f', ...targets.slice(0, 3).map((t) => `${String(t.target_path)}.tar.xz`)]);
    });

    it(`${catalyst}'s check fails on an unknown key, a missing required key and an unknown catalyst.conf key`, (ctx) => {
      if (skipReason) ctx.skip(skipReason);
      if (catalystSkip) ctx.skip(catalystSkip);
      const run = (conf: string, spec: string) => runCheck(catalyst, conf, spec);
      const stage1 = readFileSync(result.specs[0]!.path, 'utf8');
      const bad = join(tmp.path, `bad-${catalyst}.spec`);
      writeFileSync(bad, `${stage1}livecd/packages: app-misc/foo\n`);
      expect(run(result.confPath, bad).stdout).toContain('Argument \\"livecd/packages\\" not recognized');
      writeFileSync(bad, stage1.replace(/^profile:.*$/m, ''));
      expect(run(result.confPath, bad).stdout).toContain('Required argument \\"profile\\" not specified');
      const conf = join(tmp.path, `bad-${catalyst}.conf`);
      writeFileSync(conf, `${readFileSync(result.confPath, 'utf8')}\nbindist_typo = true\n`);
      const badConf = run(conf, result.specs[0]!.path);
      expect(badConf.status).not.toBe(0);
      expect(badConf.stderr + badConf.stdout).toContain("Unknown option 'bindist_typo'");
    });
  }
});
