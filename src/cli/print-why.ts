import kleur from 'kleur';
import type { WhyReport } from '../engine/why.js';

export function printWhy(report: WhyReport, json: boolean): void {
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const out: string[] = [];
  const head = `${kleur.cyan(report.step)} [${report.kind} in ${report.root}]`;
  const when = report.finished ? `finished ${report.finished.time} (attempt ${report.finished.attempt})` : '';
  const digest = (d: string | undefined) => (d === undefined ? '(none)' : d);
  switch (report.verdict) {
    case 'not-finished':
      out.push(`${head}: never finished in this run (${report.view}); it runs because it has not run to the end, not because an input changed.`);
      break;
    case 'unchanged':
      out.push(`${head}: unchanged since it ${when}: every input of its fingerprint is the same (${report.fingerprint.slice(0, 19)}).`);
      break;
    case 'unknown':
      out.push(
        `${head}: changed since it ${when} (fingerprint ${report.finished!.fingerprint.slice(0, 19)} then, ${report.fingerprint.slice(0, 19)} now), but the journal does not say which input:`,
        'it was written by a bootstrap that recorded only the fingerprint. Its inputs now:',
        ...Object.entries(report.current).map(([name, d]) => `  ${name}  ${d}`),
      );
      break;
    case 'changed':
      out.push(`${head}: ${report.changes.length} input${report.changes.length === 1 ? '' : 's'} of its fingerprint changed since it ${when}:`);
      for (const c of report.changes) {
        out.push(`  ${kleur.bold(c.name)}  ${c.change === 'changed' ? `${digest(c.old)} → ${digest(c.new)}` : c.change === 'added' ? `new (${digest(c.new)})` : `gone (was ${digest(c.old)})`}`);
        for (const line of c.diff ?? []) out.push(`    ${line.startsWith('-') ? kleur.red(line) : line.startsWith('+') ? kleur.green(line) : line.startsWith('@@') ? kleur.dim(line) : line}`);
      }
      break;
  }
  if (report.params.length) {
    out.push(`Parameters changed since it finished: ${report.params.map((p) => `${p.name} (${p.old === undefined ? 'unset' : JSON.stringify(p.old)} → ${p.new === undefined ? 'unset' : JSON.stringify(p.new)})`).join(', ')}.`);
  }
  if (report.resume.from === null) out.push('resume has nothing to run: every step is done.');
  else if (report.resume.runsAgain && report.verdict === 'unchanged') out.push(`It still runs again on resume: resume starts at ${report.resume.from} (${report.resume.reason}), before it, and runs everything from there.`);
  else if (report.resume.runsAgain) out.push(`resume starts at ${report.resume.from} (${report.resume.reason}) and runs this step again.`);
  else out.push(`resume starts at ${report.resume.from} (${report.resume.reason}), after it: this step is not run again.`);
  process.stdout.write(out.join('\n') + '\n');
}
