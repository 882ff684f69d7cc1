import type { JournalEvent, RunStartedEvent, StepFinishedEvent } from './journal.js';

export type StepStatus = 'done' | 'failed' | 'interrupted' | 'running' | 'pending';

export interface StepState {
  id: string;
  status: StepStatus;
  attempts: number;
  /** Fingerprint of the last attempt. */
  fingerprint?: string;
  log?: string;
  durationMs?: number;
  exitCode?: number | null;
  message?: string;
  tail?: string[];
  /** The last successful finish, kept even when a later attempt failed (for estimates). */
  finished?: StepFinishedEvent;
}

export interface RunState {
  started: RunStartedEvent;
  /** Resolved parameters, with changes from later resumes applied. */
  params: Record<string, string>;
  /** The `--set` values as given, with changes from later resumes applied. */
  given: Record<string, string>;
  /** Step ids of the plan as last started or resumed. */
  planned: string[];
  steps: Map<string, StepState>;
  finished: boolean;
  interrupted: boolean;
  /** Documents the run wrote when it finished (e.g. provenance). */
  documents: string[];
}

/** The run as the journal tells it. A step left `running` means the orchestrator died in it. */
export function foldJournal(events: readonly JournalEvent[]): RunState | undefined {
  const first = events[0];
  if (!first || first.type !== 'run-started') return undefined;
  const state: RunState = {
    started: first,
    params: { ...first.params },
    given: { ...first.given },
    planned: [...first.steps],
    steps: new Map(),
    finished: false,
    interrupted: false,
    documents: [],
  };
  const step = (id: string): StepState => {
    let s = state.steps.get(id);
    if (!s) {
      s = { id, status: 'pending', attempts: 0 };
      state.steps.set(id, s);
    }
    return s;
  };
  for (const event of events) {
    switch (event.type) {
      case 'run-started':
        break;
      case 'run-resumed':
        Object.assign(state.params, event.given);
        Object.assign(state.given, event.given);
        state.planned = [...event.steps];
        state.interrupted = false;
        break;
      case 'step-started': {
        const s = step(event.step);
        s.status = 'running';
        s.attempts = Math.max(s.attempts, event.attempt);
        s.fingerprint = event.fingerprint;
        s.log = event.log;
        break;
      }
      case 'step-finished': {
        const s = step(event.step);
        Object.assign(s, { status: 'done', fingerprint: event.fingerprint, log: event.log, durationMs: event.durationMs, finished: event });
        delete s.exitCode;
        delete s.message;
        delete s.tail;
        break;
      }
      case 'step-failed': {
        const s = step(event.step);
        Object.assign(s, {
          status: 'failed',
          fingerprint: event.fingerprint,
          log: event.log,
          durationMs: event.durationMs,
          exitCode: event.exitCode,
          message: event.message,
          tail: event.tail,
        });
        break;
      }
      case 'interrupted':
        state.interrupted = true;
        if (event.step) step(event.step).status = 'interrupted';
        break;
      case 'run-finished':
        state.documents = event.documents;
        break;
    }
  }
  // The run is finished only when run-finished is the last event (a resume may follow it).
  const last = events.at(-1);
  state.finished = last?.type === 'run-finished';
  return state;
}
