import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { execa, type ResultPromise } from 'execa';
import { mountsUnder } from '../host/mountinfo.js';
import { tiedToParent } from '../host/tie-to-parent.js';
import { findTool } from '../host/tools.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { parseTempName, removeStaleTemps, TEMP_NAME_GLOB, tempName } from '../util/temp-name.js';
import { digestsText } from './catalyst-files.js';
import { checkPackPaths } from './check-paths.js';
import { DEFAULT_SEED_EXCLUDES, literalPattern, normalizeExcludes } from './exclude.js';
import { digestsOf, HashingCounter, sri, Tap, type Digests } from './hashing.js';
import { checkEpoch, compressionFor, compressor, tarCreateArgs, toolEnv, USTAR_MTIME_MAX, type Compression } from './tar-command.js';

export interface PackProgress {
  /** Bytes of the (uncompressed) tar stream produced so far. */
  bytesRead: number;
  /** Size of the whole tar stream, measured by a dry run of tar over the same tree. */
  estimatedTotal: number;
}

export interface PackOptions {
  /** The tree to pack. */
  root: string;
  /** The tarball to write; its name must end as the compression calls for (.tar.xz, .tar.zst, .tar). */
  out: string;
  /** Patterns relative to the root (see normalizeExcludes); replaces DEFAULT_SEED_EXCLUDES when given. */
  exclude?: readonly string[];
  /** Default: what the name of `out` says. */
  compress?: Compression;
  /** Clamp newer mtimes to this (seconds since 1970); without it every mtime is kept as it is (to the second, tarCreateArgs). */
  epoch?: number;
  onProgress?: (event: PackProgress) => void;
  signal?: AbortSignal;
}

export interface PackResult {
  path: string;
  size: number;
  /** Archive members, as `tar -tv` lists them. */
  entries: number;
  /** SRI sha512 of the tarball. */
  integrity: string;
  sha512: string;
  blake2b: string;
  digestsPath: string;
  contentsPath: string;
  contentsIntegrity: string;
  contentsSize: number;
  digestsIntegrity: string;
  digestsSize: number;
  /** Mount points found inside the tree, and what tar said while packing successfully (sockets skipped, …). */
  warnings: string[];
}

/** Emit progress at most once per this many bytes of the tar stream (and at the end). */
const PROGRESS_STEP = 4 << 20;

/**
 * Packs `root` into a reproducible seed tarball with the host's GNU tar (see tarCreateArgs for
 * what makes the bytes a function of the tree alone), hashing while writing, and writes
 * Catalyst's `.DIGESTS` and `.CONTENTS.gz` beside it. Everything is written under temporary
 * names in the output's directory and renamed into place at the end, the tarball last, so a
 * tarball under its final name always has its companions; on failure or abort only those
 * temporary files are removed, and what a killed earlier pack left under them is removed when
 * the next one starts. tar and the compressor are tied to this process (src/host/tie-to-parent.ts):
 * they die with it, even when it is killed by SIGKILL. Temporary files of interrupted writes inside
 * the tree (src/util/temp-name.ts) are never packed, and a warning names each one found.
 */
export async function packStage(options: PackOptions): Promise<PackResult> {
  const { root, out } = await checkPackPaths(options.root, options.out, { root: 'root', out: 'out' });
  const compression = compressionFor(out, options.compress, 'compress', 'out');
  checkEpoch(options.epoch, 'epoch');
  const mounts = mountsUnder(root).filter((m) => m.mountPoint !== root);
  // --one-file-system alone would descend into a bind mount of the tree's own filesystem.
  const excludes = [
    ...normalizeExcludes(options.exclude ?? DEFAULT_SEED_EXCLUDES),
    ...mounts.map((m) => `${literalPattern(relative(root, m.mountPoint))}/*`),
  ];
  const mountNotes = mounts.map(
    (m) => `${m.mountPoint} is a mount point (${m.fsType}): its contents are left out, and its directory is packed as the mounted filesystem's root shows it; unmount it (bootstrap unmount) for a faithful seed`,
  );
  const tools = { tar: findTool('tar'), compressor: compressor(compression) };
  const compressorPath = tools.compressor ? findTool(tools.compressor.tool) : undefined;
  const beyond = await mtimeBeyondHeader(root, options.epoch, options.signal);
  const mtimeNotes = beyond
    ? [`${beyond} in ${root} has an mtime before 1970 or after 2242, which a tar header's own field cannot hold: every member's mtime is kept to the nanosecond instead, in a pax record of its own (a larger tarball)`]
    : [];
  const treeArgs = tarCreateArgs({ excludes, epoch: options.epoch, preciseMtimes: beyond !== undefined });
  // Positional: these apply to the exclude after them only, which then matches any one path component.
  const createArgs = [...treeArgs, '--no-anchored', '--no-wildcards-match-slash', `--exclude=${TEMP_NAME_GLOB}`];
  options.signal?.throwIfAborted();

  const contentsPath = `${out}.CONTENTS.gz`;
  const digestsPath = `${out}.DIGESTS`;
  const cleaned = await removeStaleTemps(dirname(out), [out, contentsPath, digestsPath].map((p) => basename(p)));
  const cleanNotes = cleaned.map((p) => `removed ${p}, a temporary file an interrupted pack left`);

  // The dry run looks without the temporary-name exclude, to name what it leaves out.
  const dry = await dryRun(tools.tar, treeArgs, root, options.signal);
  const tempNotes = dry.temps.map((m) => `${m} in ${root} is a partial file of an interrupted write: left out of the seed`);
  const estimatedTotal = dry.temps.length === 0 ? dry.size : (await dryRun(tools.tar, createArgs, root, options.signal)).size;
  options.onProgress?.({ bytesRead: 0, estimatedTotal });

  const temps = { tarball: tempName(out), contents: tempName(contentsPath), digests: tempName(digestsPath) };
  try {
    const { tarball, contents, warnings } = await writeArchive({
      tar: tools.tar,
      args: createArgs,
      root,
      compressor: tools.compressor && compressorPath ? { path: compressorPath, args: tools.compressor.args } : undefined,
      temp: temps.tarball,
      contentsTemp: temps.contents,
      estimatedTotal,
      onProgress: options.onProgress,
      signal: options.signal,
    });
    const digestsBody = digestsText([
      { name: basename(out), digests: tarball },
      { name: basename(contentsPath), digests: contents.digests },
    ]);
    const onDisk = (await stat(temps.tarball)).size;
    if (onDisk !== tarball.size) {
      throw new BootstrapError('EPACK_SHORT_WRITE', `${temps.tarball} holds ${onDisk} bytes, but ${tarball.size} were written`, {
        hint: 'Something else changed the file while it was written; pack again.',
        exitCode: 1,
      });
    }
    await writeSmallFile(temps.digests, digestsBody);
    options.signal?.throwIfAborted();
    await rename(temps.contents, contentsPath);
    await rename(temps.digests, digestsPath);
    await rename(temps.tarball, out);
    await syncDirectory(dirname(out));
    const digestsHashes = digestsOf(Buffer.from(digestsBody));
    return {
      path: out,
      size: tarball.size,
      entries: contents.entries,
      integrity: sri(tarball.sha512),
      sha512: tarball.sha512,
      blake2b: tarball.blake2b,
      digestsPath,
      contentsPath,
      contentsIntegrity: sri(contents.digests.sha512),
      contentsSize: contents.digests.size,
      digestsIntegrity: sri(digestsHashes.sha512),
      digestsSize: digestsHashes.size,
      warnings: [...cleanNotes, ...mountNotes, ...mtimeNotes, ...tempNotes, ...warnings],
    };
  } catch (error) {
    // Only the names this call made up; whatever sat under the final names stays as it was.
    await Promise.all(Object.values(temps).map((t) => rm(t, { force: true })));
    throw error;
  }
}

/**
 * GNU tar does not read file contents when the archive is /dev/null, so this walks the tree with
 * the same excludes and --one-file-system as the real run and reports the exact stream size, and
 * the members (as tar -v prints them) that have a temporary file's name.
 */
async function dryRun(tar: string, args: string[], root: string, signal?: AbortSignal): Promise<{ size: number; temps: string[] }> {
  const temps: string[] = [];
  const [file, tiedArgs] = tiedToParent(tar, [...args, '--totals', '--verbose', '--file=/dev/null', '.']);
  const result = await execa(file, tiedArgs, {
    cwd: root,
    env: toolEnv(),
    extendEnv: false,
    stdin: 'ignore',
    reject: false,
    // One member name a line, looked at and dropped: a big tree's listing is never held.
    stdout: function* (line: unknown) {
      const member = String(line);
      if (parseTempName(member.slice(member.lastIndexOf('/') + 1))) temps.push(member);
    },
    ...(signal ? { cancelSignal: signal } : {}),
  });
  signal?.throwIfAborted();
  const total = /Total bytes written: (\d+)/.exec(result.stderr);
  if (result.exitCode !== 0 || !total) throw toolFailure('tar (dry run)', root, result.exitCode, result.stderr);
  return { size: Number(total[1]), temps };
}

/**
 * The first path under `root` (as find names it, on its filesystem) whose mtime a tar header's
 * own field cannot hold: before 1970, or after 2242 unless the epoch clamps it. Undefined for
 * nearly every tree, which is then packed with mtimes to the second (tarCreateArgs).
 */
async function mtimeBeyondHeader(root: string, epoch: number | undefined, signal?: AbortSignal): Promise<string | undefined> {
  const late = epoch !== undefined && epoch <= USTAR_MTIME_MAX ? [] : ['-o', '-newermt', `@${USTAR_MTIME_MAX}`];
  const [file, args] = tiedToParent(findTool('find'), ['.', '-xdev', '(', '!', '-newermt', '@-0.000000001', ...late, ')', '-print', '-quit']);
  const result = await execa(file, args, { cwd: root, env: toolEnv(), extendEnv: false, stdin: 'ignore', reject: false, ...(signal ? { cancelSignal: signal } : {}) });
  signal?.throwIfAborted();
  if (result.exitCode !== 0) throw toolFailure('find', root, result.exitCode, result.stderr);
  return result.stdout.trim() || undefined;
}

interface ArchiveJob {
  tar: string;
  args: string[];
  root: string;
  compressor?: { path: string; args: string[] };
  temp: string;
  contentsTemp: string;
  estimatedTotal: number;
  onProgress?: (event: PackProgress) => void;
  signal?: AbortSignal;
}

/**
 * tar → (byte count) → compressor → (hashes) → temporary file, and the same uncompressed
 * stream, at the same time, into `tar --xattrs -tv` for the CONTENTS: that listing is what
 * Catalyst's `tar --xattrs -tvf` of the finished tarball prints (it reads the same bytes), without
 * decompressing the tarball again afterwards. The listing is gzipped without a name or time in
 * the header (like `gzip -n`), so the same tarball gives the same CONTENTS.gz; times print in UTC.
 */
async function writeArchive(job: ArchiveJob): Promise<{ tarball: Digests; contents: { entries: number; digests: Digests }; warnings: string[] }> {
  const stop = new AbortController();
  const onAbort = () => stop.abort(job.signal?.reason);
  job.signal?.addEventListener('abort', onAbort, { once: true });
  const common = { env: toolEnv(), extendEnv: false, cancelSignal: stop.signal, buffer: { stdout: false } } as const;
  let bytesRead = 0;
  let lastReport = 0;
  const counter = new Tap((chunk) => {
    bytesRead += chunk.length;
    if (bytesRead - lastReport < PROGRESS_STEP) return;
    lastReport = bytesRead;
    job.onProgress?.({ bytesRead, estimatedTotal: Math.max(job.estimatedTotal, bytesRead) });
  });
  let entries = 0;
  const lines = new Tap((chunk) => {
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) entries += 1;
  });
  const hasher = new HashingCounter();
  const contentsHasher = new HashingCounter();
  const file = await openTemp(job.temp, 4 << 20);
  const contentsFile = await openTemp(job.contentsTemp, 1 << 20);

  const tied = (file: string, args: string[], options: Record<string, unknown>) => {
    const [setpriv, tiedArgs] = tiedToParent(file, args);
    return execa(setpriv, tiedArgs, { ...common, ...options });
  };
  const tar = tied(job.tar, [...job.args, '--file=-', '.'], { cwd: job.root, stdin: 'ignore' });
  const list = tied(job.tar, ['--xattrs', '-tv', '--file=-'], { stdin: 'pipe' });
  const comp = job.compressor ? tied(job.compressor.path, job.compressor.args, { stdin: 'pipe' }) : undefined;
  const processes: Array<[string, ResultPromise]> = [['tar', tar], ['tar (listing)', list]];
  if (comp) processes.push([basename(job.compressor!.path), comp]);
  // pipe() to a second destination: the counter waits for whichever reader is slower. tar -t
  // exits once it has read the end-of-archive blocks, which can be before this side sees its
  // stdin finish; whether the listing is whole is then up to its exit status.
  const listed = new Promise<void>((resolve, reject) => {
    list.stdin.on('error', (error) => (errnoCode(error) === 'EPIPE' ? resolve() : reject(error)));
    list.stdin.on('close', resolve);
    counter.pipe(list.stdin);
  });
  const streams = [
    comp ? pipeline(tar.stdout, counter, comp.stdin) : pipeline(tar.stdout, counter, hasher, file),
    ...(comp ? [pipeline(comp.stdout, hasher, file)] : []),
    listed,
    pipeline(list.stdout, lines, createGzip({ level: 9 }), contentsHasher, contentsFile),
  ];
  const all = [...processes.map(([, p]) => p), ...streams];
  try {
    await Promise.all(all);
  } catch {
    stop.abort();
    const settled = await Promise.allSettled(all);
    job.signal?.throwIfAborted();
    // The first process that failed on its own, not because the others were stopped after it.
    for (const [index, [name]] of processes.entries()) {
      const outcome = settled[index]!;
      if (outcome.status === 'rejected' && !(outcome.reason as { isCanceled?: boolean }).isCanceled) {
        const failure = outcome.reason as { exitCode?: number; stderr?: string; shortMessage?: string };
        throw toolFailure(name, job.root, failure.exitCode, failure.stderr || failure.shortMessage || '');
      }
    }
    const streamFailure = settled.slice(processes.length).find((s) => s.status === 'rejected') as PromiseRejectedResult | undefined;
    throw streamFailure?.reason ?? new Error('packing stopped');
  } finally {
    job.signal?.removeEventListener('abort', onAbort);
  }
  job.onProgress?.({ bytesRead, estimatedTotal: Math.max(job.estimatedTotal, bytesRead) });
  const warnings = String((await tar).stderr).split('\n').filter(Boolean);
  return { tarball: hasher.digests(), contents: { entries, digests: contentsHasher.digests() }, warnings };
}

/**
 * Creates the file before any stream starts, so that a failure cannot race a pending open and
 * leave the file behind after the caller has removed it.
 */
async function openTemp(path: string, highWaterMark: number): Promise<WriteStream> {
  const handle = await open(path, 'wx', 0o644);
  return createWriteStream('', { fd: handle, highWaterMark, flush: true });
}

async function writeSmallFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** So the renames survive a crash as well as the files' contents do. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function toolFailure(tool: string, where: string, exitCode: number | undefined, stderr: string): BootstrapError {
  const tail = stderr.trim().split('\n').slice(-15).join('\n');
  return new BootstrapError('EPACK_TOOL', `${tool} failed on ${where}${exitCode === undefined ? '' : ` (exit code ${exitCode})`}`, {
    found: tail || '(no output)',
    hint:
      exitCode === 1 && tool === 'tar'
        ? 'Files changed while tar read them: stop whatever writes into the tree, then pack again.'
        : 'See the tool\'s messages above; bootstrap doctor checks the host tools.',
    exitCode: 1,
  });
}
