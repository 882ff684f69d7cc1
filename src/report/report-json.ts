import type { ReportData } from './model.js';

/** The report as one JSON document: times as ISO 8601, durations in milliseconds. */
export function reportJson(data: ReportData): string {
  const iso = (ms: number) => new Date(ms).toISOString();
  const timed = <T extends { start: number; end: number }>(item: T) => ({ ...item, start: iso(item.start), end: iso(item.end), durationMs: item.end - item.start });
  return `${JSON.stringify(
    {
      ...data,
      generated: iso(data.generated),
      start: iso(data.start),
      end: iso(data.end),
      invocations: data.invocations.map(timed),
      phases: data.phases.map((phase) => ({
        ...phase,
        steps: phase.steps.map((step) => ({ ...step, attempts: step.attempts.map((a) => ({ ...timed(a), packages: a.packages.map(timed) })) })),
      })),
    },
    null,
    2,
  )}\n`;
}
