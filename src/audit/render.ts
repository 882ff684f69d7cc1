import kleur from 'kleur';
import type { AuditReport, Check, CheckStatus, Section } from './report.js';

function mark(status: CheckStatus): string {
  return status === 'pass' ? kleur.green('pass') : status === 'warn' ? kleur.yellow('WARN') : kleur.red('FAIL');
}
const SECTIONS: Array<[Section, string]> = [
  ['lock', 'Lock'],
  ['inputs', 'Inputs'],
  ['target', 'live-bootstrap target'],
  ['run', 'Run'],
  ['provenance', 'Provenance'],
  ['stage', 'Stage'],
];

function line(check: Check): string[] {
  const out = [`  ${mark(check.status)}  ${check.subject}  ${kleur.dim(check.check)}: ${check.reason}`];
  for (const detail of check.details ?? []) out.push(`          ${detail}`);
  return out;
}

/**
 * The report for a person: binary seeds first, then each section's warnings and failures
 * (passes counted, or listed with `verbose`), the stage's packages, and a one-line verdict.
 */
export function renderAuditText(report: AuditReport, options: { verbose: boolean }): string {
  const out: string[] = [kleur.bold('Binary seeds this chain trusts:')];
  if (report.seeds.length === 0) out.push('  (none declared in the lock)');
  for (const seed of report.seeds) {
    out.push(`  ${kleur.bold(seed.name)}  ${seed.integrity ?? kleur.red('UNPINNED')}${seed.size !== null ? `  ${seed.size} bytes` : ''}`);
    for (const url of seed.urls) out.push(`      ${url}`);
    if (seed.from) out.push(`      hash from: ${seed.from}`);
  }
  for (const [section, title] of SECTIONS) {
    const checks = report.checks.filter((c) => c.section === section);
    if (checks.length === 0) continue;
    out.push('', kleur.bold(title));
    const passes = checks.filter((c) => c.status === 'pass');
    for (const check of checks) if (options.verbose || check.status !== 'pass') out.push(...line(check));
    if (!options.verbose && passes.length > 0) out.push(`  ${mark('pass')}  ${passes.length} check${passes.length === 1 ? '' : 's'} passed${passes.length === checks.length ? '' : ' (--verbose lists them)'}`);
  }
  if (report.packages) {
    out.push('', kleur.bold(`Packages in the stage (${report.packages.length}):`));
    for (const pkg of report.packages) out.push(`  ${pkg}`);
  }
  const { pass, warn, fail } = report.summary;
  const verdict = fail > 0 ? kleur.red().bold('audit failed') : warn > 0 ? kleur.yellow().bold('audit passed with warnings') : kleur.green().bold('audit passed');
  out.push('', `${verdict}: ${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed`);
  return `${out.join('\n')}\n`;
}
