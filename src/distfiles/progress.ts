import kleur from 'kleur';
import { mib } from '../util/format.js';
import type { FetchEvent, FetchEventHandler } from './events.js';

/** Running totals of a fetch: files done, bytes written, and the rate over the last seconds. */
export class FetchProgress {
  private readonly active = new Map<string, { bytes: number; size: number | null }>();
  private finished = 0;
  private bytesDone = 0;
  private readonly samples: Array<[number, number]> = [];

  constructor(readonly total: number) {}

  apply(event: FetchEvent): void {
    if (event.type === 'start') this.active.set(event.name, { bytes: event.offset, size: event.size });
    if (event.type === 'bytes') {
      const file = this.active.get(event.name);
      if (file) {
        this.bytesDone += Math.max(0, event.bytes - file.bytes);
        file.bytes = event.bytes;
      }
    }
    if (event.type === 'done' || event.type === 'verified') {
      this.active.delete(event.name);
      this.finished += 1;
    }
    if (event.type === 'next-source' || event.type === 'mismatch') this.active.delete(event.name);
  }

  /** `3/10 files, 120.5 MiB, 45.2 MiB/s`. */
  summary(now = Date.now()): string {
    this.samples.push([now, this.bytesDone]);
    while (this.samples.length > 2 && now - this.samples[0]![0] > 5000) this.samples.shift();
    const [t0, b0] = this.samples[0]!;
    const rate = now > t0 ? ((this.bytesDone - b0) * 1000) / (now - t0) : 0;
    return `${this.finished}/${this.total} files, ${mib(this.bytesDone)} fetched, ${mib(rate)}/s`;
  }

  activeLines(): string[] {
    return [...this.active].map(([name, f]) => `${name}: ${mib(f.bytes)}${f.size === null ? '' : ` of ${mib(f.size)}`}`);
  }
}

// Re-exported for the fetch command, which imports it from here.

/** One line for a person about an event worth a line of its own, or undefined. */
export function describeEvent(event: FetchEvent): string | undefined {
  switch (event.type) {
    case 'verified':
      return `${kleur.green('ok')} ${event.name} (${event.afterWaitingFor ? `fetched by ${event.afterWaitingFor}, verified` : 'already present, verified'})`;
    case 'waiting':
      return `${kleur.yellow('wait')} ${event.name}: ${event.holder} is fetching it into ${event.store}; waiting for it, then verifying what it leaves`;
    case 'done':
      return `${kleur.green('ok')} ${event.name} (${mib(event.size)} from ${event.source})`;
    case 'retry':
      return `${kleur.yellow('retry')} ${event.name}: ${event.reason} from ${event.source}; attempt ${event.attempt + 1} in ${(event.delayMs / 1000).toFixed(1)} s`;
    case 'next-source':
      return `${kleur.yellow('next')} ${event.name}: ${event.source} failed (${event.reason})`;
    case 'mismatch':
      return `${kleur.red('mismatch')} ${event.name} from ${event.source}, kept at ${event.keptAt}\n  expected: ${event.expected}\n  found:    ${event.found}`;
    case 'pinned':
      return `${kleur.cyan('pinned')} ${event.name}: ${event.size} bytes, ${event.integrity}`;
    default:
      return undefined;
  }
}

/**
 * Runs `work` with a progress display: listr2 with a live bottom bar on a terminal, plain lines
 * otherwise (and nothing at all for `--json`, whose stdout is one document).
 */
export async function withFetchProgress<T>(
  total: number,
  options: { quiet: boolean },
  work: (onEvent: FetchEventHandler) => Promise<T>,
): Promise<T> {
  if (options.quiet) return work(() => undefined);
  const progress = new FetchProgress(total);
  if (!process.stdout.isTTY) {
    // A log, not a screen: a line per event worth one, and the totals every 10 seconds.
    const timer = setInterval(() => process.stdout.write(`fetching: ${progress.summary()}\n`), 10_000);
    timer.unref();
    try {
      return await work((event) => {
        progress.apply(event);
        const line = describeEvent(event);
        if (line) process.stdout.write(`${line}\n`);
      });
    } finally {
      clearInterval(timer);
    }
  }
  // listr2 only for a terminal (fetch loads this module for a log or --quiet too).
  const { Listr } = await import('listr2');
  let result: T | undefined;
  const lines: string[] = [];
  const list = new Listr(
    [
      {
        title: `Fetching ${total} distfile${total === 1 ? '' : 's'}`,
        task: async (_ctx, task) => {
          const render = (): void => {
            task.title = `Fetching distfiles: ${progress.summary()}`;
            task.output = [...lines.slice(-4), ...progress.activeLines()].join('\n');
          };
          const timer = setInterval(render, 200);
          try {
            result = await work((event) => {
              progress.apply(event);
              const line = describeEvent(event);
              if (line && event.type !== 'done' && event.type !== 'verified') lines.push(line);
            });
          } finally {
            clearInterval(timer);
            render();
            task.output = lines.join('\n');
          }
        },
        rendererOptions: { bottomBar: 8, persistentOutput: true },
      },
    ],
    { exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } },
  );
  await list.run();
  return result as T;
}
