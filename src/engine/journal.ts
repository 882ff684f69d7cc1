import { closeSync, fsyncSync, openSync, readFileSync, statSync, ftruncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { BootstrapError, errnoCode } from '../util/errors.js';
import type { StepOutcome } from './step-kind.js';

/**
 * The run's state is an append-only journal of JSON lines, each fsync'd before the runner goes
 * on, so a crash at any point leaves a journal that says what happened up to that point. The
 * current state is a fold over the events (see fold-journal.ts).
 */

export const JOURNAL_FILE = 'journal.jsonl';
export const JOURNAL_VERSION = 1;

export interface RecipeIdentity {
  name: string;
  version: string;
  /** Absolute path of the recipe file. */
  path: string;
  /** sha256 hex of the recipe file's bytes. */
  digest: string;
}

export interface RunStartedEvent {
  type: 'run-started';
  tool: 'bootstrap';
  journalVersion: number;
  time: string;
  runId: string;
  recipe: RecipeIdentity;
  /** Every parameter's resolved value, frozen for the life of the run. */
  params: Record<string, string>;
  /** The `--set` values as the user gave them. */
  given: Record<string, string>;
  /** Step ids in plan order. */
  steps: string[];
  /** Command-line options that shape the step kinds (lock, distfile store, …); resume reuses them. */
  options?: Record<string, unknown>;
}

export interface RunResumedEvent {
  type: 'run-resumed';
  time: string;
  /** The first step this invocation runs. */
  from: string;
  /** Changed `--set` values, if any. */
  given: Record<string, string>;
  steps: string[];
}

/** What every event about one attempt of a step says. */
interface StepAttemptEvent {
  time: string;
  step: string;
  attempt: number;
  fingerprint: string;
  log: string;
}

export interface StepStartedEvent extends StepAttemptEvent {
  type: 'step-started';
}

export interface StepFinishedEvent extends StepAttemptEvent {
  type: 'step-finished';
  durationMs: number;
  /** sha256 hex of the log file when the step finished. */
  logDigest: string;
  outcome: StepOutcome;
  /**
   * The fingerprint's inputs, name → the first 16 hex of their sha256 (fingerprint.ts,
   * fingerprintInputs), so `bootstrap why` can say which one changed. Absent in older journals.
   */
  inputs?: Record<string, string>;
  /** The text of the small string inputs (a script, an env value), for a diff; at most 16 KiB. */
  texts?: Record<string, string>;
}

export interface StepFailedEvent extends StepAttemptEvent {
  type: 'step-failed';
  durationMs: number;
  exitCode: number | null;
  message: string;
  tail: string[];
}

export interface InterruptedEvent {
  type: 'interrupted';
  time: string;
  step: string | null;
  signal: string;
}

export interface RunFinishedEvent {
  type: 'run-finished';
  time: string;
  /** Documents written at the end of the run (e.g. provenance), by absolute path. */
  documents: string[];
}

export type JournalEvent =
  | RunStartedEvent
  | RunResumedEvent
  | StepStartedEvent
  | StepFinishedEvent
  | StepFailedEvent
  | InterruptedEvent
  | RunFinishedEvent;

export interface JournalContents {
  path: string;
  events: JournalEvent[];
  /** Bytes of a torn last line (a crash mid-write); they are ignored. */
  tornBytes: number;
}

// What each event must hold, checked on every read: a journal is edited by hand now and then,
// and a wrong type (an attempt that is not a number) would otherwise surface much later (a
// log named `.NaN.log`). Unknown extra fields are allowed, for journals of later versions.
// Built at the first read: a `plan` before any run never reads a journal.
function buildEventSchema() {
  const text = z.string();
  const strings = z.record(z.string(), z.string());
  const attemptFields = { time: text, step: text.min(1), attempt: z.number().int().positive(), fingerprint: text, log: text.min(1) };
  return z.discriminatedUnion('type', [
    z.looseObject({
      type: z.literal('run-started'),
      tool: z.literal('bootstrap'),
      journalVersion: z.number(),
      time: text,
      runId: text,
      recipe: z.looseObject({ name: text, version: text, path: text, digest: text }),
      params: strings,
      given: strings,
      steps: z.array(text),
      options: z.record(z.string(), z.unknown()).optional(),
    }),
    z.looseObject({ type: z.literal('run-resumed'), time: text, from: text, given: strings, steps: z.array(text) }),
    z.looseObject({ type: z.literal('step-started'), ...attemptFields }),
    z.looseObject({
      type: z.literal('step-finished'),
      ...attemptFields,
      durationMs: z.number().nonnegative(),
      logDigest: text,
      outcome: z.looseObject({
        artifacts: z.array(z.looseObject({ path: text, integrity: text, size: z.number().int().nonnegative() })).optional(),
        distfiles: strings.optional(),
        materials: z.array(z.looseObject({ name: text, digest: strings })).optional(),
      }),
      inputs: strings.optional(),
      texts: strings.optional(),
    }),
    z.looseObject({
      type: z.literal('step-failed'),
      ...attemptFields,
      durationMs: z.number().nonnegative(),
      exitCode: z.number().int().nullable(),
      message: text,
      tail: z.array(text),
    }),
    z.looseObject({ type: z.literal('interrupted'), time: text, step: text.nullable(), signal: text }),
    z.looseObject({ type: z.literal('run-finished'), time: text, documents: z.array(text) }),
  ]);
}
let eventSchema: ReturnType<typeof buildEventSchema> | undefined;

/**
 * Reads and checks a journal: every line is JSON, the first is this tool's run-started, every
 * event has the fields of its type, and the order is one a run writes (run-started only first;
 * after run-finished only a run-resumed). A missing journal is `undefined`; a foreign or corrupt
 * one throws, naming the path and line, and nothing is changed. With `head`, only the first
 * event is read and checked (what a command needs of the run-started before it reads the rest).
 */
export function readJournal(workDir: string, { head = false }: { head?: boolean } = {}): JournalContents | undefined {
  const path = join(workDir, JOURNAL_FILE);
  let contents: string;
  try {
    contents = readFileSync(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  const lines = contents.split('\n');
  // Everything after the last newline is a line whose write did not finish.
  const torn = lines.pop() ?? '';
  const parsed: unknown[] = (head ? lines.slice(0, 1) : lines).map((line, index) => {
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      throw index === 0 ? foreign(path) : corrupt(path, index + 1, 'is not valid JSON');
    }
    const head = event as { type?: unknown; tool?: unknown } | null;
    if (index === 0 && (head?.type !== 'run-started' || head.tool !== 'bootstrap')) throw foreign(path);
    return event;
  });
  const first = parsed[0] as { journalVersion?: unknown } | undefined;
  if (first && first.journalVersion !== JOURNAL_VERSION) {
    throw new BootstrapError('EJOURNAL', `${path} has journal version ${String(first.journalVersion)}; this bootstrap reads version ${JOURNAL_VERSION}`, {
      hint: 'Use the bootstrap version that made this run, or start a new run in another --work directory.',
    });
  }
  const events: JournalEvent[] = [];
  const schema = (eventSchema ??= buildEventSchema());
  parsed.forEach((event, index) => {
    const checked = schema.safeParse(event);
    if (!checked.success) {
      const type = (event as { type?: unknown } | null)?.type;
      if (!schema.options.some((option) => option.shape.type.value === type)) throw corrupt(path, index + 1, `has an unknown event type ${JSON.stringify(type)}`);
      const issue = checked.error.issues[0]!;
      throw corrupt(path, index + 1, `is not a valid ${String(type)} event: ${issue.path.map(String).join('.') || 'the event'}: ${issue.message}`);
    }
    const type = checked.data.type;
    if (index > 0 && type === 'run-started') throw corrupt(path, index + 1, 'is a second run-started event');
    if (events.at(-1)?.type === 'run-finished' && type !== 'run-resumed') throw corrupt(path, index + 1, `is a ${type} event after run-finished (only a run-resumed may follow it)`);
    events.push(event as JournalEvent);
  });
  return { path, events, tornBytes: Buffer.byteLength(torn) };
}

function foreign(path: string): BootstrapError {
  return new BootstrapError('EJOURNAL', `${path} is not a bootstrap journal (its first line is not a run-started event)`, {
    hint: 'Point --work at a directory bootstrap created, or at an empty one. Nothing was changed.',
  });
}

function corrupt(path: string, line: number, what: string): BootstrapError {
  return new BootstrapError('EJOURNAL', `${path} line ${line} ${what}; the journal is corrupt`, {
    hint: 'The journal was edited or damaged. Nothing was changed; start a new run in another --work directory, or restore the file.',
  });
}

/** Appends events, each fsync'd. Opening drops a torn last line so the next event starts clean. */
export class JournalWriter {
  private readonly fd: number;

  private constructor(readonly path: string, fd: number) {
    this.fd = fd;
  }

  static open(workDir: string): JournalWriter {
    const path = join(workDir, JOURNAL_FILE);
    const fd = openSync(path, 'a+');
    const size = statSync(path).size;
    if (size > 0) {
      const text = readFileSync(path, 'utf8');
      const end = text.lastIndexOf('\n') + 1;
      if (end < Buffer.byteLength(text)) {
        ftruncateSync(fd, Buffer.byteLength(text.slice(0, end)));
        fsyncSync(fd);
      }
    }
    return new JournalWriter(path, fd);
  }

  append(event: JournalEvent): void {
    writeSync(this.fd, JSON.stringify(event) + '\n');
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
