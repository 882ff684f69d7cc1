import { availableParallelism } from 'node:os';
import { readdir, readFile, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { resolveInRoot } from '../host/rooted-fs.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { shellWord } from '../util/shell-quote.js';
import { renderCatalystConf } from './catalyst-conf.js';
import { DEFAULT_DISTDIR, DEFAULT_REPO_BASEDIR, DEFAULT_SEED_FOLDER } from './defaults.js';
import { INIT_SYSTEMS, type InitSystem, type RelengEdit } from './guide-edits.js';
import { readReleng, RELENG_SNAPSHOT, RELENG_SNAPSHOT_URL } from './releng.js';
import { parseDigests } from '../stage/catalyst-files.js';
import { verifyAgainstDigests } from './digests-file.js';
import { checkSafeName, parseSeedName } from './names.js';
import { checkSeedSlot, needsPlacing, placeFile } from './place-seed.js';
import { checkSeedIsTar } from './sniff-seed.js';
import { buildSpecs, DEFAULT_INIT, stagesFor, type StageId } from './specs.js';
import { checkOwnedFolder, OWNED_MARKER, OWNED_MARKER_TEXT, replaceOwnedFolder, writeFilesAtomically } from './write-files.js';

export interface HandoffOptions {
  /** The seed tarball; `<seed>.DIGESTS` must sit beside it, `<seed>.CONTENTS.gz` may. */
  seed: string;
  /** Catalyst's storedir (default in the CLI: DEFAULT_STOREDIR). */
  storedir: string;
  /**
   * The folder under `builds/` the seed goes in; default `default`, the guide's
   * (`source_subpath` `default/stage3-bootstrap`). The specs keep releng's `rel_type`.
   */
  seedFolder?: string;
  /** releng's stage specs for this init system: the guide's `systemd` (default) or `openrc`. */
  init?: InitSystem;
  /** The Gentoo repository commit of `catalyst --snapshot`; default: the only snapshot in `<storedir>/snapshots/`. */
  treeish?: string;
  /**
   * With no tree-ish given or found, keep releng's `@TREEISH@` in the specs (to be replaced once
   * `catalyst --snapshot stable` has run on the Catalyst machine) instead of refusing.
   */
  deferTreeish?: boolean;
  /** Goes into version stamps and file names; default: the seed's modification date (UTC, YYYY-MM-DD). */
  timestamp?: string;
  /**
   * Gentoo's releng repository: a checkout, or a snapshot tarball (the pinned
   * `releng-<commit>.tar.bz2`). Its specs and Portage trees are used with the guide's edits.
   */
  releng?: string;
  /** Where catalyst.conf, the specs and the releng-shaped folder go; default `<storedir>/specs`. */
  specsDir?: string;
  /** Default: this machine's CPU count. */
  jobs?: number;
  /** Default: `jobs`. */
  loadAverage?: number;
  /** Default `/var/cache/distfiles`, where a Gentoo system keeps them. */
  distdir?: string;
  /** Default `/var/db/repos`. */
  repoBasedir?: string;
  /** Where `catalyst --snapshot` keeps its git clone; Catalyst's default (`<storedir>/repos`) when absent. */
  reposStoredir?: string;
  /** Replace a different seed of the same name in the builds folder. */
  force?: boolean;
  /**
   * The root filesystem of the machine that will run Catalyst, as this machine sees it (the
   * bootstrapped root a VM image is made from, or a staging folder copied to that machine).
   * Files are written below it; the paths inside catalyst.conf and the specs (storedir,
   * specsDir, …) stay as that machine sees them. Symbolic links resolve inside it.
   */
  targetRoot?: string;
}

export interface HandoffResult {
  /** Where the seed now is: `<storedir>/builds/<rel_type>/<seed file name>` (on this machine). */
  seedPath: string;
  /** What the stage1 and install CD specs name as `source_subpath`. */
  sourceSubpath: string;
  /** The guide's edits that were applied to releng, in order. */
  edits: RelengEdit[];
  /** The specs folder as Catalyst's machine sees it (what its commands name). */
  specsDir: string;
  /** The same folder on this machine (differs from specsDir only with targetRoot). */
  hostSpecsDir: string;
  /** catalyst.conf on this machine. */
  confPath: string;
  /** The spec files (on this machine) in the order Catalyst must run them. */
  specs: Array<{ stage: StageId; path: string }>;
  treeish: string;
  timestamp: string;
  /** Every file written or confirmed in place. */
  files: string[];
  /** SHA-512 (hex) of the placed files the verified DIGESTS vouches for (seed, CONTENTS), by path. */
  sha512: Record<string, string>;
  /** Things the builder should know before running Catalyst (e.g. a snapshot still missing). */
  notes: string[];
}

/** releng's placeholder, kept in the specs when the tree-ish is not known yet. */
export const TREEISH_PLACEHOLDER = '@TREEISH@';

/** The shell command that fills the placeholder from the one snapshot `catalyst --snapshot` made. */
function setTreeishCommand(storedir: string, specsDir: string): string {
  // The glob stays outside the quotes, so the shell still expands it.
  return `T=$(ls ${shellWord(join(storedir, 'snapshots'))} | sed -n 's/^gentoo-\\(.*\\)\\.sqfs$/\\1/p') && sed -i "s/${TREEISH_PLACEHOLDER}/$T/" ${shellWord(join(specsDir, '/'))}*.spec`;
}

export const RELENG_FOLDER = 'releng';

/** Permission, read-only and disk-full errors are the user's to fix: say which path and how. */
export function explainFsError(error: unknown, what: string): never {
  const code = errnoCode(error);
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOSPC') {
    const path = (error as { path?: string }).path ?? '';
    throw new BootstrapError('EHANDOFF_IO', `${what}: ${code} on ${path}`, {
      hint: code === 'ENOSPC' ? 'Free space on that filesystem, or choose another location.' : 'Run as root (Catalyst needs it anyway), or choose a location you can write.',
      exitCode: 1,
      cause: error,
    });
  }
  throw error;
}

function fail(code: string, message: string, hint: string, exitCode = 2): never {
  throw new BootstrapError(code, message, { hint, exitCode });
}

async function optionalFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw error;
  }
}

/** Snapshots in `<storedir>/snapshots/` are named `gentoo-<treeish>.sqfs` by `catalyst --snapshot`. */
async function findSnapshots(storedir: string): Promise<string[]> {
  try {
    return (await readdir(join(storedir, 'snapshots')))
      .map((n) => /^gentoo-(.+)\.sqfs$/.exec(n)?.[1])
      .filter((t): t is string => t !== undefined)
      .sort();
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
}

function checkCount(field: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) fail('EHANDOFF_UNSAFE_VALUE', `${field} must be a positive number, not ${value}`, `Pass a positive ${field}.`);
  return value;
}

/**
 * Hands a seed to Catalyst: verifies it, places it where `source_subpath` finds it, and writes
 * catalyst.conf, the four specs and their portage_confdir trees. Every check runs before the
 * first write; each file is written under a temporary name and renamed.
 */
export async function handoff(opts: HandoffOptions): Promise<HandoffResult> {
  const storedir = resolve(opts.storedir);
  const seedFolder = checkSafeName('seed folder', opts.seedFolder ?? DEFAULT_SEED_FOLDER);
  const init = opts.init ?? DEFAULT_INIT;
  if (!INIT_SYSTEMS.includes(init)) fail('EHANDOFF_UNSAFE_VALUE', `init ${JSON.stringify(init)} is not one of ${INIT_SYSTEMS.join(', ')}`, 'Pass --init systemd (the guide\'s) or --init openrc.');
  if (opts.releng === undefined) {
    fail('EHANDOFF_NO_RELENG', 'no releng given: the specs and Portage trees are releng\'s own, with the guide\'s edits', `Pass --releng with the pinned snapshot ${RELENG_SNAPSHOT} (distfiles.lock, ${RELENG_SNAPSHOT_URL}) or a checkout (git clone https://gitweb.gentoo.org/proj/releng.git).`);
  }
  const specsDir = resolve(opts.specsDir ?? join(storedir, 'specs'));
  const targetRoot = opts.targetRoot === undefined ? undefined : resolve(opts.targetRoot);
  // Where a path of the Catalyst machine is on this one.
  const here = (path: string) => (targetRoot === undefined ? Promise.resolve(path) : resolveInRoot(targetRoot, path));
  const jobs = checkCount('jobs', opts.jobs ?? availableParallelism());
  const loadAverage = checkCount('load-average', opts.loadAverage ?? jobs);

  const seedPath = resolve(opts.seed);
  const seedInfo = await stat(seedPath).catch(() => undefined);
  if (!seedInfo?.isFile()) fail('EHANDOFF_NO_SEED', `seed ${seedPath} does not exist or is not a file`, 'Pass the tarball made by `bootstrap pack` with --seed.');
  const seed = parseSeedName(basename(seedPath), seedPath);
  await checkSeedIsTar(seedPath, seed);

  const digestsPath = `${seedPath}.DIGESTS`;
  let digestsText: string;
  try {
    digestsText = await readFile(digestsPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    fail('EHANDOFF_DIGESTS_MISSING', `${digestsPath} is missing: the seed cannot be checked`, '`bootstrap pack` writes it beside the seed; copy it along with the seed.');
  }
  const digests = parseDigests(digestsText, digestsPath);
  await verifyAgainstDigests(seedPath, seed.fileName, digests, digestsPath);
  const contentsPath = `${seedPath}.CONTENTS.gz`;
  const hasContents = await optionalFile(contentsPath);
  const contentsVerified = hasContents && digests.some((d) => d.fileName === `${seed.fileName}.CONTENTS.gz`);
  if (contentsVerified) await verifyAgainstDigests(contentsPath, `${seed.fileName}.CONTENTS.gz`, digests, digestsPath);
  // verifyAgainstDigests requires a SHA512 line and checked every one.
  const verifiedSha512 = (fileName: string) => digests.find((d) => d.fileName === fileName && d.algorithm === 'SHA512')!.hex;

  const snapshots = await findSnapshots(await here(storedir));
  const notes: string[] = [];
  let treeish: string;
  if (opts.treeish !== undefined) {
    treeish = checkSafeName('treeish', opts.treeish);
    if (!snapshots.includes(treeish)) {
      notes.push(`${join(storedir, 'snapshots', `gentoo-${treeish}.sqfs`)} is not there yet: run \`catalyst -c ${join(specsDir, 'catalyst.conf')} --snapshot ${treeish}\` on the Catalyst host before stage1.`);
    }
  } else if (snapshots.length === 1) {
    treeish = checkSafeName('treeish', snapshots[0]!);
  } else if (snapshots.length === 0 && opts.deferTreeish) {
    treeish = TREEISH_PLACEHOLDER;
    notes.push(`The specs keep ${TREEISH_PLACEHOLDER}: on the Catalyst machine run \`catalyst --snapshot stable\`, then ${setTreeishCommand(storedir, specsDir)}`);
  } else {
    fail(
      'EHANDOFF_NO_TREEISH',
      snapshots.length === 0
        ? `no --treeish given and no Catalyst snapshot in ${join(storedir, 'snapshots')}`
        : `no --treeish given and ${snapshots.length} snapshots in ${join(storedir, 'snapshots')}: ${snapshots.join(', ')}`,
      'Run `catalyst --snapshot stable` on the Catalyst host (storedir ' + storedir + ') and pass the tree-ish it prints with --treeish.',
    );
  }
  const timestamp = checkSafeName('timestamp', opts.timestamp ?? seedInfo.mtime.toISOString().slice(0, 10));
  // catalyst-auto fills @DATESTAMP@ with `date -u +%Y%m%d`: the timestamp's date when it is one.
  const datestamp = /^\d{4}-\d{2}-\d{2}$/.test(timestamp) ? timestamp.replaceAll('-', '') : seedInfo.mtime.toISOString().slice(0, 10).replaceAll('-', '');

  const repoDir = join(specsDir, RELENG_FOLDER);
  const sourceSubpath = `${seedFolder}/${seed.stem}`;
  const releng = await readReleng(resolve(opts.releng));
  const built = buildSpecs({ init, releng, timestamp, datestamp, treeish, seedSubpath: sourceSubpath, repoDir });
  const stages = stagesFor(init);
  const confText = renderCatalystConf({
    storedir,
    distdir: opts.distdir ?? DEFAULT_DISTDIR,
    repoBasedir: opts.repoBasedir ?? DEFAULT_REPO_BASEDIR,
    reposStoredir: opts.reposStoredir,
    jobs,
    loadAverage,
  });
  const buildsDir = await here(join(storedir, 'builds', seedFolder));
  await checkSeedSlot(buildsDir, seed, seedFolder);
  const hostSpecsDir = await here(specsDir);
  const hostRepoDir = await here(repoDir);
  await checkOwnedFolder(hostSpecsDir);
  await checkOwnedFolder(hostRepoDir);

  const placed = join(buildsDir, seed.fileName);
  const companions: Array<{ from: string; to: string; sha512?: string }> = [
    { from: digestsPath, to: `${placed}.DIGESTS` },
    ...(hasContents ? [{ from: contentsPath, to: `${placed}.CONTENTS.gz`, sha512: contentsVerified ? verifiedSha512(`${seed.fileName}.CONTENTS.gz`) : undefined }] : []),
  ];
  // The seed goes last, so that Catalyst never sees it without its DIGESTS.
  const placements = [...companions, { from: seedPath, to: placed, sha512: verifiedSha512(seed.fileName) }];
  const pending = [];
  for (const p of placements) if (await needsPlacing(p.from, p.to, opts.force === true, p.sha512)) pending.push(p);
  for (const p of pending) await placeFile(p.from, p.to);

  const portageFiles = await replaceOwnedFolder(hostRepoDir, built.repoFiles);
  const specFiles = stages.map((s) => ({ stage: s.id, path: join(hostSpecsDir, s.file) }));
  // Spec files of the other init system from an earlier hand-off would be misleading: remove them.
  for (const other of INIT_SYSTEMS.filter((i) => i !== init)) {
    for (const s of stagesFor(other)) if (!stages.some((mine) => mine.file === s.file)) await unlink(join(hostSpecsDir, s.file)).catch(() => undefined);
  }
  const hostConfPath = join(hostSpecsDir, 'catalyst.conf');
  await writeFilesAtomically([
    { path: join(hostSpecsDir, OWNED_MARKER), content: OWNED_MARKER_TEXT },
    { path: hostConfPath, content: confText },
    ...specFiles.map((s) => ({ path: s.path, content: built.specs[basename(s.path)]! })),
  ]);

  return {
    seedPath: placed,
    sourceSubpath,
    edits: built.edits,
    specsDir,
    hostSpecsDir,
    confPath: hostConfPath,
    specs: specFiles,
    treeish,
    timestamp,
    files: [placed, ...companions.map((c) => c.to), hostConfPath, ...specFiles.map((s) => s.path), ...portageFiles],
    sha512: Object.fromEntries(placements.flatMap((p) => (p.sha512 === undefined ? [] : [[p.to, p.sha512]]))),
    notes,
  };
}
