import kleur from 'kleur';
import { formatDuration } from '../engine/reporter.js';
import { journalStatus } from '../engine/resume-point.js';
import type { StatusReport } from '../engine/session.js';
import { resumeCommand } from './resume-command.js';

const COLOURS: Record<string, (s: string) => string> = {
  done: kleur.green,
  failed: kleur.red,
  interrupted: kleur.yellow,
  changed: kleur.magenta,
  running: kleur.cyan,
  pending: kleur.dim,
};

export function printStatus(report: StatusReport, json: boolean): void {
  const { state, plan, point, running } = report;
  const ids = plan ? plan.steps.map((s) => s.id) : state.started.steps;
  const rows = ids.map((id) => {
    const s = state.steps.get(id);
    // A step left started is running while a live run holds the lock, interrupted otherwise.
    const status = running && s?.status === 'running' ? 'running' : (point?.views.get(id) ?? journalStatus(s));
    return { step: id, status, attempts: s?.attempts ?? 0, durationMs: s?.durationMs ?? null, log: s?.log ?? null, exitCode: s?.exitCode ?? null };
  });
  const live = running ? { pid: running.pid, command: running.command, time: running.time } : null;
  const next = running
    ? undefined
    : point
    ? point.startIndex < ids.length
      ? { step: ids[point.startIndex]!, reason: point.reason }
      : state.finished
        ? null
        : { step: null, reason: 'every step is done; resume finishes the run' }
    : undefined;
  if (json) {
    process.stdout.write(
      JSON.stringify(
        {
          work: report.work,
          recipe: state.started.recipe,
          runId: state.started.runId,
          started: state.started.time,
          finished: state.finished,
          running: live,
          steps: rows,
          next: next ?? null,
          ...(report.planError ? { planError: report.planError } : {}),
        },
        null,
        2,
      ) + '\n',
    );
    return;
  }
  const out: string[] = [`Run ${state.started.runId} of recipe ${state.started.recipe.name} ${state.started.recipe.version}, started ${state.started.time}${state.finished ? ', finished' : ''}`];
  const width = Math.max(...rows.map((r) => r.step.length));
  for (const r of rows) {
    const colour = COLOURS[r.status] ?? ((s: string) => s);
    out.push(
      `  ${r.step.padEnd(width)}  ${colour(r.status.padEnd(11))} ${r.durationMs !== null ? formatDuration(r.durationMs).padStart(8) : ''.padStart(8)}${r.attempts > 1 ? `  (${r.attempts} attempts)` : ''}${r.log && r.status !== 'done' && r.status !== 'pending' ? `  ${r.log}` : ''}`,
    );
  }
  if (report.planError) out.push(kleur.yellow(`The recipe cannot be planned now, so changes are not shown: ${report.planError}`));
  if (live) {
    out.push(kleur.cyan(`A run is in progress in this work directory (pid ${live.pid}, started ${live.time}: ${live.command}); resume can continue only after it ends.`));
  } else if (next) out.push(`Next: ${next.step ? `resume starts at ${next.step} (${next.reason})` : next.reason}. Run: ${resumeCommand(report.work)}`);
  else if (state.finished) out.push('The run is finished.');
  process.stdout.write(out.join('\n') + '\n');
}
