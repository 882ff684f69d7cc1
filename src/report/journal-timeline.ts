import type { JournalEvent } from '../engine/journal.js';
import type { AttemptReport, Invocation } from './model.js';

export interface JournalTimeline {
  invocations: Invocation[];
  /** Every attempt of every step, by step id, in journal order. */
  attempts: Map<string, AttemptReport[]>;
  notes: string[];
}

/**
 * Attempts and invocations from the journal's events. An attempt with no end event is
 * `running` when nothing follows it (the run is still going, or its bootstrap was killed a
 * moment ago) and `lost` when a later resume shows its bootstrap died; a lost attempt ends when
 * its log was last written (`lastWrite`), as the journal cannot say.
 */
export function journalTimeline(events: readonly JournalEvent[], now: number, lastWrite: (log: string) => number | undefined): JournalTimeline {
  const invocations: Invocation[] = [];
  const attempts = new Map<string, AttemptReport[]>();
  const notes: string[] = [];
  const open = new Map<string, AttemptReport>();
  let current: Invocation | undefined;
  let lastTime = 0;
  const at = (time: string): number => {
    const t = Date.parse(time);
    return Number.isFinite(t) ? t : lastTime;
  };
  const endInvocation = (next: number) => {
    if (!current) return;
    for (const [id, attempt] of open) {
      attempt.status = 'lost';
      attempt.end = Math.min(next, Math.max(attempt.start, (attempt.log && lastWrite(attempt.log)) || attempt.start));
      current.end = Math.max(current.end, attempt.end);
      notes.push(`Step ${id} attempt ${attempt.attempt} has no end in the journal and a later resume ran: its bootstrap was killed; shown up to its log's last write.`);
    }
    open.clear();
    if (current.ended === 'running') current.ended = 'killed';
  };
  for (const event of events) {
    const time = at(event.time);
    switch (event.type) {
      case 'run-started':
      case 'run-resumed':
        endInvocation(time);
        current = { kind: event.type === 'run-started' ? 'run' : 'resume', start: time, end: time, ended: 'running', ...(event.type === 'run-resumed' ? { from: event.from } : {}) };
        invocations.push(current);
        break;
      case 'step-started': {
        const attempt: AttemptReport = { attempt: event.attempt, start: time, end: time, status: 'running', log: event.log, packages: [] };
        open.set(event.step, attempt);
        const list = attempts.get(event.step) ?? [];
        list.push(attempt);
        attempts.set(event.step, list);
        break;
      }
      case 'step-finished':
      case 'step-failed': {
        const attempt = open.get(event.step) ?? findAttempt(attempts, event.step, event.attempt);
        if (!attempt) {
          notes.push(`The journal ends attempt ${event.attempt} of step ${event.step} that it never started; left out.`);
          break;
        }
        open.delete(event.step);
        attempt.end = time;
        // The journal's own duration is the step's, so the bar is exactly that long.
        if (Number.isFinite(event.durationMs) && event.durationMs >= 0) attempt.start = time - event.durationMs;
        attempt.status = event.type === 'step-finished' ? 'done' : 'failed';
        if (event.type === 'step-failed') {
          attempt.exitCode = event.exitCode;
          if (current) current.ended = 'failed';
        }
        break;
      }
      case 'interrupted': {
        const attempt = event.step ? open.get(event.step) : undefined;
        if (attempt && event.step) {
          attempt.status = 'interrupted';
          attempt.signal = event.signal;
          attempt.end = time;
          open.delete(event.step);
        }
        if (current) current.ended = 'interrupted';
        break;
      }
      case 'run-finished':
        if (current) current.ended = 'finished';
        break;
    }
    lastTime = Math.max(lastTime, time);
    if (current) current.end = Math.max(current.end, time);
  }
  // Whatever is still open belongs to the last invocation: still going, or killed just now.
  for (const [id, attempt] of open) {
    attempt.end = Math.max(attempt.start, now);
    if (current) current.end = Math.max(current.end, attempt.end);
    notes.push(`Step ${id} attempt ${attempt.attempt} has started and not ended: the run is still going (or its bootstrap was killed); shown up to ${new Date(now).toISOString()}.`);
  }
  if (current && current.ended === 'running' && open.size === 0 && events.at(-1)?.type !== 'run-finished') {
    // The last invocation ended between steps without saying why: --until, or killed there.
    current.ended = 'stopped';
  }
  return { invocations, attempts, notes };
}

function findAttempt(attempts: Map<string, AttemptReport[]>, step: string, attempt: number): AttemptReport | undefined {
  return attempts.get(step)?.find((a) => a.attempt === attempt);
}
