/**
 * The report's time axis: linear while the run ran, with each long pause between a bootstrap
 * that stopped and the resume that followed squeezed to a fixed width, so a night between a
 * failure and its fix does not flatten the day's work into a corner.
 */

export interface AxisGap {
  start: number;
  end: number;
  /** Drawn squeezed to GAP_PX wide. */
  squeezed: boolean;
}

export interface TimeAxis {
  width: number;
  start: number;
  end: number;
  gaps: AxisGap[];
  /** x (0…width) of an epoch-millisecond time. */
  x(time: number): number;
  /** Milliseconds per pixel where the axis is linear. */
  msPerPx: number;
}

export const GAP_PX = 28;

export function timeAxis(start: number, end: number, pauses: ReadonlyArray<{ start: number; end: number }>, width: number): TimeAxis {
  const span = Math.max(end - start, 1000);
  end = start + span;
  const candidates = pauses.filter((p) => p.end > p.start && p.start >= start && p.end <= end).sort((a, b) => a.start - b.start);
  // Squeeze a pause when it is long beside the run: over a minute and over 5% of the span.
  const gaps: AxisGap[] = candidates.map((p) => ({ ...p, squeezed: p.end - p.start > Math.max(60_000, span * 0.05) }));
  const squeezed = gaps.filter((g) => g.squeezed);
  const linearMs = span - squeezed.reduce((sum, g) => sum + (g.end - g.start), 0);
  const linearPx = Math.max(width - squeezed.length * GAP_PX, width / 2);
  const msPerPx = Math.max(linearMs, 1) / linearPx;
  const x = (time: number): number => {
    const t = Math.min(Math.max(time, start), end);
    let px = 0;
    let from = start;
    for (const g of squeezed) {
      if (t <= g.start) break;
      px += (g.start - from) / msPerPx;
      if (t < g.end) return px + (GAP_PX * (t - g.start)) / (g.end - g.start);
      px += GAP_PX;
      from = g.end;
    }
    return Math.min(width, px + (t - from) / msPerPx);
  };
  return { width, start, end, gaps, x, msPerPx };
}

const STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800].map((s) => s * 1000);

/** Tick times (elapsed from the start, on whole steps) at least `minPx` apart, none inside a squeezed gap. */
export function ticks(axis: TimeAxis, minPx = 80): number[] {
  const step = STEPS_MS.find((s) => s / axis.msPerPx >= minPx) ?? STEPS_MS.at(-1)!;
  const out: number[] = [];
  for (let t = axis.start; t <= axis.end && out.length < 5000; t += step) {
    const gap = axis.gaps.find((g) => g.squeezed && t > g.start && t < g.end);
    // Past a squeezed gap, ticks go on at whole steps from the start.
    if (gap) t = axis.start + Math.ceil((gap.end - axis.start) / step) * step - step;
    else out.push(t);
  }
  return out;
}
