import { join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { EngineDeps } from '../engine/session.js';
import { layoutReport } from './layout.js';
import { allPackages, allSteps } from './model.js';
import { readRun } from './read-run.js';
import { reportJson } from './report-json.js';
import { renderSvg } from './svg.js';
import { renderTable } from './table.js';

export interface ReportOptions {
  /** The SVG's path, or `-` for stdout; by default <work>/report.svg unless --json or --table. */
  out?: string;
  json: boolean;
  table: boolean;
  top: number;
}

/** `bootstrap report`: the picture, and/or the JSON document or the table on stdout. */
export async function writeReport(work: string, deps: EngineDeps, options: ReportOptions): Promise<void> {
  const data = await readRun(work, deps);
  if (options.json) process.stdout.write(reportJson(data));
  if (options.table) process.stdout.write(renderTable(data, options.top));
  const out = options.out ?? (options.json || options.table ? undefined : join(resolve(work), 'report.svg'));
  if (out === undefined) return;
  const svg = renderSvg(layoutReport(data));
  if (out === '-') {
    process.stdout.write(svg);
    return;
  }
  await writeFileAtomic(resolve(out), svg);
  const steps = allSteps(data);
  const line = `Wrote ${resolve(out)} (${Math.ceil(Buffer.byteLength(svg) / 1024)} KiB): ${steps.length} steps, ${steps.reduce((n, s) => n + s.attempts.length, 0)} attempts, ${allPackages(data).length} packages${data.notes.length ? `, ${data.notes.length} note${data.notes.length > 1 ? 's' : ''}` : ''}.\n`;
  // With --json or --table on stdout, the line goes to stderr so stdout stays one document.
  (options.json || options.table ? process.stderr : process.stdout).write(line);
}
