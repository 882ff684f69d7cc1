import { formatDuration, isoTime, span } from './format.js';
import { allPackages, allSteps, type AttemptReport, type PackageReport, type ReportData, type StepReport } from './model.js';
import type { Scene, Shape } from './scene.js';
import { ticks, timeAxis } from './time-axis.js';

const MARGIN = 16;
const GUTTER = 300;
const CHART = 1300;
const WIDTH = MARGIN + GUTTER + CHART + MARGIN;
const ROW = 16;
const LANE = 12;
const PHASE_ROW = 22;
// Advance widths of DejaVu Sans Mono (0.602 em) at the label sizes the stylesheet sets, rounded up.
const CHAR = 6.7;
const SMALL_CHAR = 5.5;
// Packages narrower than this are drawn together as one group; failed ones never are.
const MIN_PX = 3;
const MAX_LANES = 8;
const TOP_N = 12;

/** Where labels already are on one row, so that no two overlap. */
class Occupancy {
  private spans: Array<[number, number]> = [];
  free(a: number, b: number): boolean {
    return this.spans.every(([x, y]) => b <= x || a >= y);
  }
  take(a: number, b: number): void {
    this.spans.push([a, b]);
  }
}

/** The picture of a run: phases as bands, steps as rows of attempts, packages in lanes under their emerge step. */
export function layoutReport(data: ReportData): Scene {
  const shapes: Shape[] = [];
  const steps = allSteps(data);
  const packages = allPackages(data);
  const attempts = steps.flatMap((s) => s.attempts);
  const pauses = data.invocations.slice(1).map((inv, i) => ({ start: data.invocations[i]!.end, end: inv.start }));
  const axis = timeAxis(data.start, data.end, pauses, CHART);
  const X = (t: number) => MARGIN + GUTTER + axis.x(t);

  // Header and legend.
  const title = `${data.recipe.name} ${data.recipe.version}`.trim();
  shapes.push({ type: 'text', x: MARGIN, y: 22, text: `bootstrap run of ${title}${data.runId ? ` (${data.runId})` : ''}`, cls: 'h1' });
  shapes.push({
    type: 'text',
    x: MARGIN,
    y: 40,
    text: `${data.state}; ${isoTime(data.start)} – ${isoTime(data.end)}, ${formatDuration(data.end - data.start)} wall clock; ${steps.length} steps, ${attempts.length} attempts, ${packages.length} packages; made ${isoTime(data.generated)}`,
    cls: 'h2',
  });
  let lx = MARGIN;
  for (const [cls, label] of [['a-done', 'done'], ['a-failed', 'failed (exit status)'], ['a-interrupted', 'interrupted'], ['a-running', 'running'], ['a-lost', 'bootstrap killed'], ['p-done', 'package'], ['p-group', 'small packages, grouped'], ['p-failed', 'package failed'], ['pause', 'paused (squeezed)']] as const) {
    shapes.push({ type: 'rect', x: lx, y: 50, w: 12, h: 10, cls });
    shapes.push({ type: 'text', x: lx + 16, y: 59, text: label, cls: 'small' });
    lx += 16 + label.length * SMALL_CHAR + 18;
  }

  const axisY = 78;
  const top = 104;
  let y = top;
  const body: Shape[] = [];
  for (const [p, phase] of data.phases.entries()) {
    const phaseTop = y;
    const busy = phase.steps.reduce((sum, s) => sum + s.attempts.reduce((t, a) => t + (a.end - a.start), 0), 0);
    const phaseAttempts = phase.steps.flatMap((s) => s.attempts);
    body.push({ type: 'text', x: MARGIN + 2, y: y + 14, text: `${phase.title} (${phase.id})${phaseAttempts.length ? `: ${formatDuration(busy)} in steps` : ''}`, cls: 'phase' });
    if (phaseAttempts.length) {
      const first = Math.min(...phaseAttempts.map((a) => a.start));
      const last = Math.max(...phaseAttempts.map((a) => a.end));
      body.push({ type: 'rect', x: X(first), y: y + PHASE_ROW - 4, w: Math.max(1, X(last) - X(first)), h: 3, cls: 'phase-span', title: `phase ${phase.id}: ${phase.title}\n${span(first, last)}\n${formatDuration(busy)} in its steps' attempts` });
    }
    y += PHASE_ROW;
    for (const step of phase.steps) y = drawStep(body, step, y, X);
    shapes.push({ type: 'rect', x: MARGIN / 2, y: phaseTop, w: WIDTH - MARGIN, h: y - phaseTop, cls: p % 2 ? 'band-b' : 'band-a' });
  }
  const bottom = y;

  // Axis: ticks over the whole chart, pauses, and where each bootstrap started.
  const axisRow = new Occupancy();
  for (const t of ticks(axis)) {
    const x = X(t);
    shapes.push({ type: 'line', x1: x, y1: axisY + 4, x2: x, y2: bottom, cls: 'tick' });
    const label = `+${formatDuration(t - data.start)}`;
    const w = label.length * SMALL_CHAR;
    if (axisRow.free(x - w / 2, x + w / 2 + 4)) {
      axisRow.take(x - w / 2, x + w / 2 + 4);
      shapes.push({ type: 'text', x, y: axisY, text: label, cls: 'small', anchor: 'middle' });
    }
  }
  const markRow = new Occupancy();
  for (const [i, gap] of axis.gaps.entries()) {
    const x1 = X(gap.start);
    const x2 = X(gap.end);
    const inv = data.invocations[i + 1]!;
    const what = `${data.invocations[i]!.ended === 'killed' ? 'bootstrap killed' : `stopped (${data.invocations[i]!.ended})`}, then ${inv.kind}${inv.from ? ` from ${inv.from}` : ''}`;
    shapes.push({ type: 'rect', x: x1, y: axisY + 6, w: Math.max(2, x2 - x1), h: bottom - axisY - 6, cls: gap.squeezed ? 'pause' : 'pause-short', title: `paused ${formatDuration(gap.end - gap.start)}: ${what}\n${span(gap.start, gap.end)}` });
    const label = `paused ${formatDuration(gap.end - gap.start)}`;
    const w = label.length * SMALL_CHAR;
    if (markRow.free(x1, x1 + w + 6)) {
      markRow.take(x1, x1 + w + 6);
      shapes.push({ type: 'text', x: x1, y: axisY + 16, text: label, cls: 'small' });
    }
  }
  shapes.push({ type: 'line', x1: MARGIN + GUTTER, y1: axisY + 4, x2: MARGIN + GUTTER + CHART, y2: axisY + 4, cls: 'axis' });
  shapes.push(...body);

  y = bottom + 24;
  y = drawSlowest(shapes, data, y);
  y = drawNotes(shapes, data.notes, y);
  return { width: WIDTH, height: Math.ceil(y + MARGIN), title: `bootstrap run of ${title}`, shapes };
}

function attemptLabel(a: AttemptReport): string | undefined {
  switch (a.status) {
    case 'failed':
      return a.exitCode === null || a.exitCode === undefined ? 'failed' : `exit ${a.exitCode}`;
    case 'interrupted':
      return a.signal ?? 'interrupted';
    case 'lost':
      return 'killed';
    case 'running':
      return 'running';
    default:
      return undefined;
  }
}

function attemptTitle(step: StepReport, a: AttemptReport): string {
  const status = a.status === 'failed' ? `failed${a.exitCode === null || a.exitCode === undefined ? '' : ` with exit status ${a.exitCode}`}` : a.status === 'interrupted' ? `interrupted by ${a.signal ?? 'a signal'}` : a.status === 'lost' ? 'no end in the journal: its bootstrap was killed' : a.status;
  return `${step.id} attempt ${a.attempt}: ${status}\n${span(a.start, a.end)}${a.packages.length ? `\n${a.packages.length} packages` : ''}${a.log ? `\nlog: ${a.log}` : ''}`;
}

function drawStep(out: Shape[], step: StepReport, y: number, X: (t: number) => number): number {
  const row = new Occupancy();
  const last = step.attempts.at(-1);
  const failed = last && last.status !== 'done';
  const maxChars = Math.floor((GUTTER - 20) / CHAR);
  const name = step.id.length > maxChars ? `${step.id.slice(0, maxChars - 1)}…` : step.id;
  const total = step.attempts.reduce((t, a) => t + (a.end - a.start), 0);
  out.push({
    type: 'text',
    x: MARGIN + 12,
    y: y + 12,
    text: name,
    cls: failed ? 'step bad' : step.attempts.length ? 'step' : 'step none',
    title: `${step.id} (${step.kind}): ${step.title}\n${step.attempts.length ? `${step.attempts.length} attempt${step.attempts.length > 1 ? 's' : ''}, ${formatDuration(total)} in all` : 'not run'}`,
  });
  for (const a of step.attempts) {
    const x1 = X(a.start);
    const w = Math.max(1.5, X(a.end) - x1);
    out.push({ type: 'rect', x: x1, y: y + 3, w, h: ROW - 6, cls: `a-${a.status}`, title: attemptTitle(step, a) });
    row.take(x1, x1 + w);
  }
  const label = (text: string, a: AttemptReport, cls: string) => {
    const w = text.length * CHAR;
    const x1 = X(a.start);
    const x2 = Math.max(x1 + 1.5, X(a.end));
    const right = MARGIN + GUTTER + CHART + MARGIN / 2;
    if (x2 + 3 + w <= right && row.free(x2 + 2, x2 + 4 + w)) {
      row.take(x2 + 2, x2 + 4 + w);
      out.push({ type: 'text', x: x2 + 3, y: y + 12, text, cls });
    } else if (x1 - 3 - w >= MARGIN + GUTTER && row.free(x1 - 4 - w, x1 - 2)) {
      row.take(x1 - 4 - w, x1 - 2);
      out.push({ type: 'text', x: x1 - 3, y: y + 12, text, cls, anchor: 'end' });
    }
  };
  for (const a of step.attempts) {
    const text = attemptLabel(a);
    if (text) label(text, a, 'label bad');
  }
  if (last) label(step.attempts.length > 1 ? `${formatDuration(last.end - last.start)} (attempt ${last.attempt})` : formatDuration(last.end - last.start), last, 'label');
  y += ROW;
  const packages = step.attempts.flatMap((a) => a.packages);
  if (packages.length) y = drawPackages(out, step, packages, y, X);
  return y;
}

function drawPackages(out: Shape[], step: StepReport, packages: PackageReport[], y: number, X: (t: number) => number): number {
  // Parallel merges (emerge --jobs) go to lanes, each package in the first lane free at its start.
  const lanes: Array<{ end: number; items: PackageReport[] }> = [];
  for (const p of [...packages].sort((a, b) => a.start - b.start)) {
    const x = X(p.start);
    const lane = lanes.find((l) => l.end <= x + 0.5) ?? (lanes.length < MAX_LANES ? undefined : lanes.at(-1));
    if (lane) {
      lane.items.push(p);
      lane.end = Math.max(lane.end, X(p.end));
    } else {
      lanes.push({ end: X(p.end), items: [p] });
    }
  }
  out.push({ type: 'text', x: MARGIN + 24, y: y + 9, text: `${packages.length} package${packages.length > 1 ? 's' : ''}`, cls: 'small', title: `${step.id}: ${packages.length} packages from ${[...new Set(packages.map((p) => p.log))].join(', ')}` });
  for (const lane of lanes) {
    let group: PackageReport[] = [];
    const flush = () => {
      if (group.length === 1) drawPackage(out, group[0]!, y, X);
      else if (group.length > 1) drawGroup(out, group, y, X);
      group = [];
    };
    for (const p of lane.items) {
      const narrow = X(p.end) - X(p.start) < MIN_PX && p.status === 'done';
      if (!narrow) {
        flush();
        drawPackage(out, p, y, X);
        continue;
      }
      const previous = group.at(-1);
      if (previous && X(p.start) - X(previous.end) > 2) flush();
      group.push(p);
    }
    flush();
    y += LANE;
  }
  return y + 2;
}

function packageLine(p: PackageReport): string {
  const status = p.status === 'failed' ? `, failed${p.exitStatus !== undefined ? ` (emerge exit status ${p.exitStatus})` : ''}` : p.status === 'running' ? ', still merging' : '';
  return `${p.name} (${p.index} of ${p.total}) to ${p.root}: ${span(p.start, p.end)}${status}`;
}

function drawPackage(out: Shape[], p: PackageReport, y: number, X: (t: number) => number): void {
  const x1 = X(p.start);
  const w = Math.max(p.status === 'done' ? 1 : MIN_PX, X(p.end) - x1);
  out.push({ type: 'rect', x: x1, y: y + 1, w, h: LANE - 2, cls: `p-${p.status}`, title: packageLine(p) });
  if (w >= p.name.length * SMALL_CHAR + 4) out.push({ type: 'text', x: x1 + 2, y: y + 9, text: p.name, cls: 'pkg' });
}

function drawGroup(out: Shape[], group: PackageReport[], y: number, X: (t: number) => number): void {
  const first = group[0]!;
  const last = group.at(-1)!;
  const x1 = X(first.start);
  const w = Math.max(2, X(last.end) - x1);
  out.push({ type: 'rect', x: x1, y: y + 1, w, h: LANE - 2, cls: 'p-group', title: `${group.length} packages, ${span(first.start, last.end)}:\n${group.map(packageLine).join('\n')}` });
  const text = `${group.length}`;
  if (w >= text.length * SMALL_CHAR + 4) out.push({ type: 'text', x: x1 + 2, y: y + 9, text, cls: 'pkg' });
}

function drawSlowest(out: Shape[], data: ReportData, y: number): number {
  const attempts = allSteps(data).flatMap((s) => s.attempts.map((a) => ({ s, a })));
  attempts.sort((p, q) => q.a.end - q.a.start - (p.a.end - p.a.start));
  const packages = allPackages(data).sort((p, q) => q.end - q.start - (p.end - p.start));
  const columns: Array<[string, Array<[number, string]>]> = [
    [`Slowest step attempts (of ${attempts.length})`, attempts.slice(0, TOP_N).map(({ s, a }) => [a.end - a.start, `${s.id}${s.attempts.length > 1 ? ` #${a.attempt}` : ''}${a.status !== 'done' ? ` (${attemptLabel(a)})` : ''}`])],
    [`Slowest packages (of ${packages.length})`, packages.slice(0, TOP_N).map((p) => [p.end - p.start, `${p.name}${p.status !== 'done' ? ` (${p.status})` : ''}  [${p.step}]`])],
  ];
  let bottom = y;
  // Durations right-aligned in their own column (SVG collapses the spaces that would pad them).
  const durationW = 10 * CHAR;
  for (const [c, [heading, lines]] of columns.entries()) {
    const x = MARGIN + c * ((GUTTER + CHART) / 2);
    const maxChars = Math.floor(((GUTTER + CHART) / 2 - durationW - 24) / CHAR);
    out.push({ type: 'text', x, y, text: heading, cls: 'phase' });
    lines.forEach(([ms, line], i) => {
      out.push({ type: 'text', x: x + durationW, y: y + 16 * (i + 1), text: formatDuration(ms), cls: 'label', anchor: 'end' });
      out.push({ type: 'text', x: x + durationW + CHAR, y: y + 16 * (i + 1), text: line.length > maxChars ? `${line.slice(0, maxChars - 1)}…` : line, cls: 'label', title: line });
    });
    bottom = Math.max(bottom, y + 16 * (lines.length + 1));
  }
  return bottom + 12;
}

function drawNotes(out: Shape[], notes: readonly string[], y: number): number {
  if (notes.length === 0) return y;
  out.push({ type: 'text', x: MARGIN, y, text: 'Notes', cls: 'phase' });
  const maxChars = Math.floor((GUTTER + CHART) / CHAR);
  for (const note of notes) {
    for (const line of wrap(`• ${note}`, maxChars)) {
      y += 16;
      out.push({ type: 'text', x: MARGIN, y, text: line, cls: 'label note' });
    }
  }
  return y + 8;
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else {
      line = line ? `${line} ${word}` : word;
    }
    while (line.length > width) {
      lines.push(line.slice(0, width));
      line = `  ${line.slice(width)}`;
    }
  }
  if (line) lines.push(line);
  return lines;
}

