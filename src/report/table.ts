import { formatDuration } from './format.js';
import { allPackages, allSteps, type ReportData } from './model.js';

/** The slowest step attempts and packages, `top` of each, as plain text for a terminal. */
export function renderTable(data: ReportData, top: number): string {
  const attempts = allSteps(data).flatMap((s) => s.attempts.map((a) => ({ s, a })));
  attempts.sort((p, q) => q.a.end - q.a.start - (p.a.end - p.a.start));
  const packages = allPackages(data).sort((p, q) => q.end - q.start - (p.end - p.start));
  const lines = [`Run ${data.runId} of ${data.recipe.name} ${data.recipe.version}: ${data.state}, ${formatDuration(data.end - data.start)} wall clock`, ''];
  lines.push(...columns(`Slowest step attempts (${Math.min(top, attempts.length)} of ${attempts.length})`, ['duration', 'status', 'attempt', 'phase', 'step'], attempts.slice(0, top).map(({ s, a }) => [
    formatDuration(a.end - a.start),
    a.status === 'failed' && a.exitCode !== null && a.exitCode !== undefined ? `failed (exit ${a.exitCode})` : a.status === 'interrupted' ? `interrupted (${a.signal ?? 'signal'})` : a.status,
    String(a.attempt),
    data.phases.find((p) => p.steps.includes(s))?.id ?? '',
    s.id,
  ])));
  lines.push('');
  lines.push(...columns(`Slowest packages (${Math.min(top, packages.length)} of ${packages.length})`, ['duration', 'status', 'package', 'step'], packages.slice(0, top).map((p) => [
    formatDuration(p.end - p.start),
    p.status,
    p.name,
    p.attempt > 1 ? `${p.step} #${p.attempt}` : p.step,
  ])));
  if (data.notes.length) lines.push('', 'Notes:', ...data.notes.map((n) => `  ${n}`));
  return `${lines.join('\n')}\n`;
}

function columns(heading: string, header: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [heading, '  (none)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padStart(widths[i]!) : i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`;
  return [heading, line(header), ...rows.map(line)];
}
