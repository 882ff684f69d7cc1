import { createReadStream, createWriteStream, mkdirSync, openSync, readdirSync, type WriteStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { BootstrapError, isBootstrapError } from '../util/errors.js';
import { fingerprintInputs, inputDigests, inputTexts } from './fingerprint.js';
import type { RunState } from './fold-journal.js';
import type { JournalWriter } from './journal.js';
import type { Plan, PlannedStep } from './plan.js';
import type { Reporter, StepFailureInfo } from './reporter.js';
import { renderTemplate } from './render.js';
import { resolveHostPath, systemDirectory } from './root-guard.js';
import { StepFailure, type ScriptRequest, type StepLog, type StepOutcome } from './step-kind.js';

/** How a script actually runs (chroot sandbox or host); the CLI supplies it from src/host. */
export type ScriptRunner = (
  request: ScriptRequest,
  io: { output: (chunk: Buffer) => void; signal: AbortSignal },
) => Promise<{ exitCode: number }>;

export interface RunHooks {
  /** After each finished step (e.g. collecting fetches recorded with --record). */
  afterStep?(step: PlannedStep, outcome: StepOutcome): Promise<void>;
  /** After the last step; returns the documents it wrote (e.g. provenance), by path. */
  afterRun?(): Promise<string[]>;
}

export interface ExecuteOptions {
  plan: Plan;
  workDir: string;
  journal: JournalWriter;
  /** The run so far, or the one a --fresh run replaces: attempt numbers continue from it. */
  state: RunState | undefined;
  startIndex: number;
  /** Stop after this step; `resume` continues later. */
  until?: string;
  reporter: Reporter;
  runScript: ScriptRunner;
  hooks?: RunHooks;
  /** Aborted with the signal name (SIGINT or SIGTERM) as reason. */
  signal: AbortSignal;
  /**
   * Plans the recipe again; called after each finished step while a parameter's detection is
   * put off (`deferred`), so the steps after the phase that made its folder use the detected value.
   */
  replan?: () => Promise<Plan>;
}

export type RunResult =
  | { status: 'finished'; documents: string[] }
  | { status: 'paused'; after: string }
  | { status: 'failed'; step: PlannedStep; failure: StepFailureInfo }
  | { status: 'interrupted'; step: PlannedStep | null; signal: string };

const TAIL_LINES = 30;

export async function executePlan(options: ExecuteOptions): Promise<RunResult> {
  const { journal, reporter, signal } = options;
  let plan = options.plan;
  const logDir = join(options.workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  for (const step of plan.steps.slice(0, options.startIndex)) reporter.stepSkipped(step, 'done earlier, unchanged');

  for (let index = options.startIndex; index < plan.steps.length; index++) {
    const step = plan.steps[index]!;
    if (signal.aborted) return interrupted(options, null);
    const attempt = Math.max(options.state?.steps.get(step.id)?.attempts ?? 0, lastLoggedAttempt(logDir, step.id)) + 1;
    const logPath = join(logDir, `${String(step.index + 1).padStart(3, '0')}-${step.id}.${attempt}.log`);
    const log = new Log(logPath, (line) => reporter.stepOutput(step, line), (line) => reporter.stepNote(step, line));
    const started = Date.now();
    journal.append({ type: 'step-started', time: new Date(started).toISOString(), step: step.id, attempt, fingerprint: step.fingerprint, log: logPath });
    reporter.stepStarted(step, attempt, logPath);

    let outcome: StepOutcome | undefined;
    let failure: StepFailureInfo | undefined;
    try {
      guardRoots(plan);
      outcome =
        (await step.kind.run(step.spec, step.plan, {
          stepId: step.id,
          recipeDir: plan.recipe.dir,
          render: (text, where) => renderTemplate(text, plan.params.values, where),
          root: step.root,
          roots: plan.roots,
          params: plan.params.values,
          workDir: options.workDir,
          log,
          signal,
          runScript: (request) => runLogged(options.runScript, request, log, signal),
        })) ?? {};
    } catch (error) {
      failure = describeFailure(error, log, logPath);
      log.write(`\n[bootstrap] step failed: ${failure.message}\n`);
      if (!isBootstrapError(error) && !(error instanceof StepFailure) && error instanceof Error) log.write(`${error.stack}\n`);
    }
    await log.close();
    const durationMs = Date.now() - started;
    const time = new Date().toISOString();

    if (signal.aborted) return interrupted(options, step);
    if (failure) {
      journal.append({ type: 'step-failed', time, step: step.id, attempt, fingerprint: step.fingerprint, durationMs, log: logPath, exitCode: failure.exitCode, message: failure.message, tail: failure.tail });
      reporter.stepFailed(step, failure);
      return { status: 'failed', step, failure };
    }
    const inputs = fingerprintInputs(step.material, step.plan.writes);
    journal.append({ type: 'step-finished', time, step: step.id, attempt, fingerprint: step.fingerprint, durationMs, log: logPath, logDigest: await sha256File(logPath), outcome: outcome ?? {}, inputs: inputDigests(inputs), texts: inputTexts(inputs) });
    reporter.stepFinished(step, durationMs);
    await options.hooks?.afterStep?.(step, outcome ?? {});
    if (options.replan && Object.values(plan.params.sources).includes('deferred')) plan = await replanned(plan, options.replan);
    if (options.until === step.id && step.index < plan.steps.length - 1) return { status: 'paused', after: step.id };
  }
  const documents = (await options.hooks?.afterRun?.()) ?? [];
  journal.append({ type: 'run-finished', time: new Date().toISOString(), documents });
  return { status: 'finished', documents };
}

/**
 * The plan again, now that a finished step may have made what a deferred parameter is detected
 * from. Only values change, never the steps, so the run goes on at the same index.
 */
async function replanned(plan: Plan, replan: () => Promise<Plan>): Promise<Plan> {
  const next = await replan();
  const same = next.steps.length === plan.steps.length && next.steps.every((s, i) => s.id === plan.steps[i]!.id);
  if (!same) throw new BootstrapError('EREPLAN', 'planning the recipe again after a detected parameter changed the steps to run', { hint: 'A phase left out or added by unless_set cannot depend on a detected parameter.' });
  return next;
}

/**
 * The highest attempt number among the step's log files. The journal of a run that a --fresh
 * run replaced is kept aside, so a resume of the new run does not see its attempts; their logs
 * are still there, and a log file is never reused.
 */
function lastLoggedAttempt(logDir: string, stepId: string): number {
  let last = 0;
  for (const name of readdirSync(logDir)) {
    const match = /^\d+-(.+)\.(\d+)\.log$/.exec(name);
    if (match && match[1] === stepId) last = Math.max(last, Number(match[2]));
  }
  return last;
}

/**
 * Planning refused roots that lead into the host's system; an earlier step of this very run
 * can still have made one lead there (e.g. `ln -s / /gentoo` in the lb root), so every step
 * checks them again before it runs.
 */
function guardRoots(plan: Plan): void {
  for (const root of Object.values(plan.roots)) {
    if (root.host) continue;
    const resolved = resolveHostPath(root.path);
    const why = systemDirectory(resolved);
    if (why) {
      throw new BootstrapError('EUNSAFEROOT', `root ${root.name} (${root.path}) now resolves to ${resolved}, ${why}; an earlier step made it lead there`, {
        hint: 'Nothing was run. Fix the step that made the link, then resume.',
      });
    }
  }
}

const CAPTURE_LIMIT = 1 << 20;

/** Runs a script with its output in the step's log, and also handed back when asked for. */
async function runLogged(runScript: ScriptRunner, request: ScriptRequest, log: Log, signal: AbortSignal): Promise<{ exitCode: number; output?: string }> {
  if (!request.capture) return runScript(request, { output: (chunk) => log.write(chunk), signal });
  let chunks: Buffer[] = [];
  let held = 0;
  const result = await runScript(request, {
    output: (chunk) => {
      log.write(chunk);
      chunks.push(chunk);
      held += chunk.length;
      if (held > 2 * CAPTURE_LIMIT) {
        chunks = [Buffer.concat(chunks).subarray(-CAPTURE_LIMIT)];
        held = CAPTURE_LIMIT;
      }
    },
    signal,
  });
  return { ...result, output: Buffer.concat(chunks).subarray(-CAPTURE_LIMIT).toString('utf8') };
}

function interrupted(options: ExecuteOptions, step: PlannedStep | null): RunResult {
  const signal = String(options.signal.reason ?? 'SIGINT');
  options.journal.append({ type: 'interrupted', time: new Date().toISOString(), step: step?.id ?? null, signal });
  options.reporter.interrupted(step, signal);
  return { status: 'interrupted', step, signal };
}

function describeFailure(error: unknown, log: Log, logPath: string): StepFailureInfo {
  const tail = log.tail();
  if (error instanceof StepFailure) {
    return { message: error.message, exitCode: error.exitCode, tail: [...tail, ...(error.details.length ? ['', ...error.details] : [])], log: logPath };
  }
  const message = isBootstrapError(error) ? `${error.message}${error.hint ? ` (${error.hint})` : ''}` : error instanceof Error ? error.message : String(error);
  return { message, exitCode: null, tail, log: logPath };
}

/** A step attempt's log file, with the last lines kept for the failure report. */
class Log implements StepLog {
  private readonly stream: WriteStream;
  private partial = '';
  private readonly lines: string[] = [];

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly onNote: (line: string) => void,
  ) {
    // Opened here, before the step starts: a log is never overwritten, and a failure to create
    // it is an error of the run, not an unhandled stream event.
    this.stream = createWriteStream(path, { fd: openSync(path, 'wx') });
  }

  write(chunk: string | Buffer): void {
    this.stream.write(chunk);
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.keep(line);
  }

  note(line: string): void {
    this.stream.write(`[bootstrap] ${line}\n`);
    this.onNote(line);
  }

  tail(): string[] {
    return this.partial ? [...this.lines, this.partial].slice(-TAIL_LINES) : [...this.lines];
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
  }

  private keep(line: string): void {
    this.lines.push(line);
    if (this.lines.length > TAIL_LINES) this.lines.shift();
    this.onLine(line);
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
