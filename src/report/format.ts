import { formatDuration } from '../engine/reporter.js';

export { formatDuration };

/** An exact time for a tooltip: ISO 8601 in UTC. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : '(unknown)';
}

/** `from – to (duration)` for a tooltip. */
export function span(start: number, end: number): string {
  return `${isoTime(start)} – ${isoTime(end)} (${formatDuration(end - start)})`;
}
