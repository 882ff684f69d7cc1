import kleur from 'kleur';
import type { PreflightReport } from '../engine/preflight.js';

const SHOWN_ITEMS = 12;

/** Prints a preflight's answers (text, or one JSON document with --json) and returns the exit code. */
export function printPreflight(report: PreflightReport, json: boolean): number {
  const code = exitCode(report);
  if (json) {
    const { run, ...rest } = report;
    process.stdout.write(`${JSON.stringify({ type: 'preflight-report', ...rest, run: run.status === 'failed' ? { status: run.status, step: run.step.id, failure: run.failure } : { status: run.status } })}\n`);
    return code;
  }
  const out: string[] = ['', `Preflight of ${report.recipe} over ${report.lower} (an overlay: nothing was written to it)`];
  for (const step of report.steps) {
    const result = step.result;
    if (step.stopped) {
      out.push(`  ${kleur.red(step.stopped.padEnd(8))} ${step.step}${step.log ? ` (log: ${step.log})` : ''}`);
      continue;
    }
    if (!result) {
      out.push(`  ${kleur.dim('ran     ')} ${step.step}`);
      continue;
    }
    if (result.ok) {
      const items = result.would.length === 0 ? 'nothing to do' : `${result.would.length}: ${result.would.slice(0, SHOWN_ITEMS).join(' ')}${result.would.length > SHOWN_ITEMS ? ' …' : ''}`;
      out.push(`  ${kleur.green('resolves')} ${step.step}: ${items}`);
      continue;
    }
    out.push(`  ${kleur.red('blocked ')} ${step.step}: ${result.problems.map((p) => p.kind).join(', ')}${step.log ? ` (log: ${step.log})` : ''}`);
    for (const problem of result.problems) out.push(...problem.lines.map((line) => `      ${line}`));
  }
  if (report.run.status === 'failed') {
    const f = report.run.failure;
    out.push(`${kleur.red('error:')} step ${report.run.step.id} failed in the overlay: ${f.message}`, ...f.tail.map((l) => `      ${l}`), `  full log: ${f.log}`);
  }
  if (report.run.status === 'interrupted') out.push(`Interrupted by ${report.run.signal}.`);
  if (report.stoppedBefore) out.push(kleur.dim(`Stopped before step ${report.stoppedBefore.step}: ${report.stoppedBefore.reason}.`));
  const asked = report.steps.filter((s) => s.result);
  const blocked = asked.filter((s) => !s.result?.ok).length;
  out.push(
    report.ok
      ? kleur.green(`Preflight passed: ${asked.length} steps asked, all resolve.`)
      : kleur.red(
          `Preflight ${report.run.status === 'interrupted' ? 'interrupted' : 'failed'}: ${asked.length} steps asked, ${blocked} do not resolve${report.run.status === 'failed' ? `, and step ${report.run.step.id} failed` : ''}.`,
        ),
    `Report: ${report.dir}/report.json`,
    '',
  );
  process.stdout.write(out.join('\n'));
  return code;
}

function exitCode(report: PreflightReport): number {
  if (report.run.status === 'interrupted') return report.run.signal === 'SIGTERM' ? 143 : 130;
  return report.ok ? 0 : 1;
}
