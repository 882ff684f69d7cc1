import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { BootstrapError } from '../util/errors.js';
import { catalystCommands, type CatalystCommand } from './commands.js';
import { TREEISH_PLACEHOLDER } from './handoff.js';
import type { StageId } from './specs.js';
import { writeFilesAtomically } from './write-files.js';

export type StageStatus = 'skipped' | 'done' | 'failed' | 'interrupted';

export interface StageOutcome {
  stage: StageId;
  status: StageStatus;
  argv: string[];
  logPath: string;
  exitCode?: number;
  /** Last lines of the log, for a failed stage. */
  tail?: string[];
}

export interface RunStagesOptions {
  /** The specs folder as the machine running Catalyst sees it: what the commands name. */
  specsDir: string;
  /** The same folder on this machine, where specs are read and logs go; default specsDir. */
  hostSpecsDir?: string;
  /** Command words that start Catalyst, see catalystCommands(). */
  catalyst: string[];
  /** The stages and their spec files, in order; default the guide's (systemd). */
  stages?: ReadonlyArray<{ id: StageId; file: string }>;
  signal?: AbortSignal;
  /** Called as each stage starts, is skipped or ends. */
  onStage?: (event: { stage: StageId; status: StageStatus | 'started'; argv: string[]; logPath: string }) => void;
  /** Every chunk of Catalyst's output (also written to the stage's log). */
  onOutput?: (stage: StageId, chunk: Buffer) => void;
  /** How many log lines a failure shows; default 30. */
  tailLines?: number;
}

function logsDir(specsDir: string): string {
  return join(specsDir, 'logs');
}

/**
 * A stage's identity: its spec, catalyst.conf and the command. A finished stage whose
 * identity is unchanged is not run again.
 */
async function stageDigest(hostSpecsDir: string, command: CatalystCommand): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(command.argv));
  hash.update(await readFile(join(hostSpecsDir, basename(command.spec))));
  hash.update(await readFile(join(hostSpecsDir, 'catalyst.conf')));
  return hash.digest('hex');
}

async function readMarker(path: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(path, 'utf8')) as { digest?: string }).digest;
  } catch {
    return undefined;
  }
}

/** The last lines of a log that may be hundreds of megabytes: only its end is read. */
async function logTail(path: string, count: number): Promise<string[]> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    if (length < size) lines.shift(); // a partial first line
    return lines.filter((l, i, all) => !(l === '' && i === all.length - 1)).slice(-count);
  } finally {
    await handle.close();
  }
}

/**
 * Runs the hand-off's Catalyst stages in order, each with its own log in `<specsDir>/logs/`.
 * A stage that finished before with the same spec, config and command is skipped; once one
 * stage runs, every later stage runs too, since each builds on the one before. Stops at the
 * first failure or when `signal` aborts (the child is killed).
 */
export async function runStages(opts: RunStagesOptions): Promise<StageOutcome[]> {
  const hostSpecsDir = opts.hostSpecsDir ?? opts.specsDir;
  const dir = logsDir(hostSpecsDir);
  await mkdir(dir, { recursive: true });
  const commands = catalystCommands(opts.specsDir, opts.catalyst, opts.stages);
  for (const command of commands) {
    const text = await readFile(join(hostSpecsDir, basename(command.spec)), 'utf8');
    if (text.includes(TREEISH_PLACEHOLDER)) {
      throw new BootstrapError('EHANDOFF_NO_TREEISH', `${join(hostSpecsDir, basename(command.spec))} still has ${TREEISH_PLACEHOLDER}: Catalyst would look for a snapshot that does not exist`, {
        hint: 'Run `catalyst --snapshot stable` where Catalyst runs, then hand off again with --treeish <the commit it printed>.',
      });
    }
  }
  const outcomes: StageOutcome[] = [];
  let rerunRest = false;
  for (const command of commands) {
    const logPath = join(dir, `${command.stage}.log`);
    const markerPath = join(dir, `${command.stage}.done`);
    const digest = await stageDigest(hostSpecsDir, command);
    if (!rerunRest && (await readMarker(markerPath)) === digest) {
      outcomes.push({ stage: command.stage, status: 'skipped', argv: command.argv, logPath });
      opts.onStage?.({ stage: command.stage, status: 'skipped', argv: command.argv, logPath });
      continue;
    }
    rerunRest = true;
    await rm(markerPath, { force: true });
    opts.onStage?.({ stage: command.stage, status: 'started', argv: command.argv, logPath });
    const outcome = await runOne(command, logPath, opts);
    outcomes.push(outcome);
    opts.onStage?.({ stage: command.stage, status: outcome.status, argv: command.argv, logPath });
    if (outcome.status !== 'done') break;
    await writeFilesAtomically([
      { path: markerPath, content: `${JSON.stringify({ digest, argv: command.argv, finished: new Date().toISOString() })}\n` },
    ]);
  }
  return outcomes;
}

async function runOne(command: CatalystCommand, logPath: string, opts: RunStagesOptions): Promise<StageOutcome> {
  // Appended, so the log of an earlier failed attempt is still there after a re-run.
  const log = createWriteStream(logPath, { flags: 'a' });
  log.write(`# ${new Date().toISOString()} attempt: ${command.argv.join(' ')}\n`);
  const child = execa(command.argv[0]!, command.argv.slice(1), {
    stdin: 'ignore',
    buffer: false,
    reject: false,
    cancelSignal: opts.signal,
    forceKillAfterDelay: 10_000,
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      opts.onOutput?.(command.stage, chunk);
    });
  }
  const result = await child;
  if (result.failed && result.exitCode === undefined && !result.isCanceled) {
    log.write(`# could not start ${command.argv[0]}: ${result.originalMessage ?? result.shortMessage}\n`);
  }
  await new Promise<void>((resolve, reject) => log.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const base = { stage: command.stage, argv: command.argv, logPath };
  if (result.isCanceled || opts.signal?.aborted) return { ...base, status: 'interrupted', exitCode: result.exitCode };
  if (result.exitCode === 0) return { ...base, status: 'done', exitCode: 0 };
  return { ...base, status: 'failed', exitCode: result.exitCode, tail: await logTail(logPath, opts.tailLines ?? 30) };
}
