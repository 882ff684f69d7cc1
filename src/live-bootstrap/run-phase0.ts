import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ensureDistfiles } from '../distfiles/ensure.js';
import { describeEvent } from '../distfiles/progress.js';
import { readLiveBootstrapSources } from '../distfiles/live-bootstrap-sources.js';
import { readLock } from '../distfiles/read-lock.js';
import type { PretendResult, RunContext, StepOutcome, StepPlan } from '../engine/step-kind.js';
import { StepFailure } from '../engine/step-kind.js';
import { mountsUnder } from '../host/mountinfo.js';
import { rootfsCommand, type LiveBootstrapKindOptions, type LiveBootstrapSpec as Spec } from '../steps/live-bootstrap.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { shellWord } from '../util/shell-quote.js';
import { keepBuiltPackages } from './kept-packages.js';
import { liveBootstrapEntries, topSnapshot, type LiveBootstrapEntries, type PinnedFile } from './lock-entries.js';
import { cutManifest } from './manifest.js';
import { PACKAGE_NAME, parsePackageSums } from './package-sums.js';
import { placeFile } from '../distfiles/place-file.js';
import { placeTree, verifyStored } from './place-checkout.js';
import { integrityToHex } from './sri.js';

/** The marker that says the step made the target, so a later attempt may replace it. */
const MARKER = 'target-made-by-bootstrap';

/**
 * One attempt of phase 0 (docs/live-bootstrap.md): place the pinned tree and the sources its
 * manifest names, keep what an earlier attempt built, and run rootfs.py.
 */
export async function runLiveBootstrap(spec: Spec, options: LiveBootstrapKindOptions, ctx: RunContext): Promise<StepOutcome> {
  const lock = await readLock(options.lockPath);
  const entries = liveBootstrapEntries(lock, options.lockPath);
  const top = topSnapshot(entries, options.lockPath);
  const checkout = join(spec.dir, 'checkout');
  const keptDir = join(spec.dir, 'kept');
  await mkdir(spec.dir, { recursive: true });
  await ensureGroup(entries, options, ctx);

  await placeTree(entries.snapshots, options.storeDir, checkout);
  ctx.log.note(`placed live-bootstrap ${top.commit} and ${entries.snapshots.length - 1} submodules in ${checkout}`);
  const manifestPath = join(checkout, 'steps', 'manifest');
  if (spec.stop_before) {
    await writeFile(manifestPath, cutManifest(await readFile(manifestPath, 'utf8'), spec.stop_before, `steps/manifest of ${top.name}`));
    ctx.log.note(`cut steps/manifest before "${spec.stop_before}"`);
  }
  const used = await placeSources(entries, checkout, options.storeDir, top.name);
  ctx.log.note(`placed ${used.length} sources in ${join(checkout, 'distfiles')}`);
  const seeds = await checkSeeds(entries.seeds, checkout, spec.arch);
  for (const line of seeds.notes) ctx.log.note(line);

  const sums = parsePackageSums(await readFile(join(checkout, 'steps', 'SHA256SUMS.pkgs'), 'utf8'), `steps/SHA256SUMS.pkgs of ${top.name}`);
  const kept = await clearEarlierAttempt(spec, sums, keptDir, ctx);
  await writeFile(join(spec.dir, MARKER), `${spec.target}\n`);
  const command = rootfsCommand(spec, kept.length > 0 ? keptDir : undefined);
  ctx.log.note(`running ${command.join(' ')} in ${checkout}`);
  const script = ['set -eu', `cd ${shellWord(checkout)}`, `exec unshare --mount --propagation private --net -- ${command.map(shellWord).join(' ')}`].join('\n');
  const { exitCode } = await ctx.runScript({ root: ctx.root, script });
  if (exitCode !== 0) {
    const built = (await readdir(join(spec.target, 'external', 'repo')).catch(() => [] as string[])).filter((n) => PACKAGE_NAME.test(n));
    throw new StepFailure(`rootfs.py exited with status ${exitCode}`, {
      exitCode,
      details: [`live-bootstrap built ${built.length} package${built.length === 1 ? '' : 's'} in ${join(spec.target, 'external', 'repo')} before it stopped; \`bootstrap resume\` keeps those that match SHA256SUMS.pkgs and starts rootfs.py again with --repo, so they are installed, not built again`],
    });
  }
  return {
    distfiles: Object.fromEntries([...used, ...seeds.checked].map((f) => [f.name, f.integrity])),
    materials: entries.snapshots.map((s) => ({
      name: s.name,
      ...(s.urls[0] ? { uri: s.urls[0] } : {}),
      digest: { gitCommit: s.commit },
      lockEntry: s.name,
      path: s.path,
    })),
  };
}

/** The dry-run form: what a run would do, and what it would fetch first. */
export async function pretendLiveBootstrap(spec: Spec, plan: StepPlan, options: LiveBootstrapKindOptions): Promise<PretendResult> {
  const missing: string[] = [];
  for (const name of plan.distfiles ?? []) {
    if (!(await stat(join(options.storeDir, name)).catch(() => undefined))) missing.push(name);
  }
  return {
    ok: true,
    would: [`build live-bootstrap into ${spec.target}: ${rootfsCommand(spec, undefined).join(' ')}`, ...(missing.length ? [`fetch first: ${missing.join(', ')}`] : [])],
    problems: [],
  };
}

/**
 * Brings every file of the group into the store as `bootstrap fetch` would: a file the store
 * verified earlier in this boot is trusted from its record (no read), another is hashed, or,
 * for a git snapshot, which only a record can tie to its commit, set aside and fetched again;
 * what is missing is fetched. Everything placed afterwards is therefore what the lock pins.
 */
async function ensureGroup(entries: LiveBootstrapEntries, options: LiveBootstrapKindOptions, ctx: RunContext): Promise<void> {
  const names = [...entries.snapshots, ...entries.sources, ...entries.seeds].map((e) => e.name);
  let present = 0;
  await ensureDistfiles({
    lockPath: options.lockPath,
    storeDir: options.storeDir,
    names,
    mirrors: options.mirrors ?? [],
    signal: ctx.signal,
    onProgress: (event) => {
      // One line for all the files already there; each fetch is told in full.
      if (event.type === 'verified') present += 1;
      const line = event.type === 'verified' ? undefined : describeEvent(event);
      if (line) ctx.log.note(line);
    },
  });
  ctx.log.note(`${names.length} files of live-bootstrap's group are in the store ${options.storeDir}, verified (${present} were there already)`);
}

/**
 * The sources the (possibly cut) manifest names, each a lock entry of the group whose hash is
 * the one the manifest's sources file gives, verified in the store (ensureGroup) and linked into the
 * checkout's distfiles/ (where rootfs.py --external-sources looks; it then finds everything
 * and downloads nothing).
 */
async function placeSources(entries: LiveBootstrapEntries, checkout: string, storeDir: string, top: string): Promise<PinnedFile[]> {
  const byName = new Map(entries.sources.map((f) => [f.name, f]));
  const dir = join(checkout, 'distfiles');
  await mkdir(dir, { recursive: true });
  const used: PinnedFile[] = [];
  const read = (path: string) => readFile(join(checkout, path), 'utf8').catch((error: unknown) => (errnoCode(error) === 'ENOENT' ? undefined : Promise.reject(error)));
  for (const line of await readLiveBootstrapSources(read, top)) {
    const file = byName.get(line.name);
    if (!file) {
      throw new BootstrapError('EUNLOCKEDSOURCE', `${line.file} of ${top} names ${line.name}, which the lock does not pin`, {
        hint: 'Import live-bootstrap into the lock again with `bootstrap lock import-live-bootstrap`.',
      });
    }
    if (integrityToHex(file.integrity) !== line.sha256) {
      throw new BootstrapError('ELOCKMISMATCH', `${line.file} of ${top} gives ${line.name} sha256 ${line.sha256}; the lock pins ${file.integrity}`, {
        hint: 'The lock was made from another live-bootstrap; import it again with `bootstrap lock import-live-bootstrap`.',
      });
    }
    await placeFile(join(storeDir, file.name), join(dir, file.name));
    used.push(file);
  }
  return used;
}

/** The seeds of the lock, each compared with the file of that name in the placed bootstrap-seeds. */
async function checkSeeds(seeds: readonly PinnedFile[], checkout: string, arch: string): Promise<{ checked: PinnedFile[]; notes: string[] }> {
  const dir = join(checkout, 'seed', 'stage0-posix', 'bootstrap-seeds', 'POSIX', arch === 'amd64' ? 'AMD64' : arch);
  const checked: PinnedFile[] = [];
  const notes: string[] = [];
  for (const seed of seeds) {
    const path = join(dir, seed.name.replace(/^.*?(hex0-seed|kaem-optional-seed)$/, '$1'));
    if (!(await stat(path).catch(() => undefined))) {
      notes.push(`seed ${seed.name}: no ${path} in the placed tree to compare it with`);
      continue;
    }
    await verifyStored(path, seed);
    checked.push(seed);
    notes.push(`seed ${seed.name}: ${path} matches the lock`);
  }
  return { checked, notes };
}

/**
 * rootfs.py wants a target that does not exist. One an earlier attempt of this step made is
 * replaced, after its packages are kept; any other is refused. Returns the kept packages.
 */
async function clearEarlierAttempt(spec: Spec, sums: ReadonlyMap<string, string>, keptDir: string, ctx: RunContext): Promise<string[]> {
  const exists = Boolean(await stat(spec.target).catch(() => undefined));
  const madeHere = (await readFile(join(spec.dir, MARKER), 'utf8').catch(() => '')).trim() === spec.target;
  if (exists && !madeHere) {
    throw new BootstrapError('ETARGETEXISTS', `${spec.target} exists and was not made by this step: rootfs.py builds into a folder that does not exist yet`, {
      hint: `To start from a finished live-bootstrap output there, give --target ${spec.target} (the live-bootstrap phase is then left out); otherwise move it away.`,
    });
  }
  if (exists) {
    const mounts = mountsUnder(spec.target);
    if (mounts.length > 0) {
      throw new BootstrapError('ETARGETMOUNTS', `${spec.target} has mounts below it (${mounts.map((m) => m.mountPoint).join(', ')}); an earlier attempt cannot be cleared`, {
        hint: `Remove them with \`bootstrap unmount --target ${spec.target}\`, then resume.`,
      });
    }
    const { kept, dropped } = await keepBuiltPackages(spec.target, sums, keptDir);
    for (const d of dropped) ctx.log.note(`not kept: ${d.name} (${d.why})`);
    await rm(spec.target, { recursive: true, force: true });
    ctx.log.note(`kept ${kept.length} packages of earlier attempts in ${keptDir}; removed the earlier target ${spec.target}`);
  }
  await mkdir(dirname(spec.target), { recursive: true });
  await mkdir(keptDir, { recursive: true });
  return (await readdir(keptDir)).filter((n) => PACKAGE_NAME.test(n));
}
