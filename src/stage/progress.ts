import { Listr } from 'listr2';
import { mib } from '../util/format.js';
import type { PackProgress } from './pack-stage.js';

function describeProgress({ bytesRead, estimatedTotal }: PackProgress): string {
  const percent = estimatedTotal === 0 ? 100 : Math.min(100, Math.floor((bytesRead * 100) / estimatedTotal));
  return `${mib(bytesRead)} of ${mib(estimatedTotal)} read (${percent}%)`;
}

/**
 * Runs `work` with a progress display: a listr2 task whose title follows the bytes read on a
 * terminal, a plain line every 10 % otherwise, nothing for `quiet` (JSON output).
 */
export async function withPackProgress<T>(
  title: string,
  mode: 'listr' | 'plain' | 'quiet',
  work: (onProgress: (event: PackProgress) => void) => Promise<T>,
): Promise<T> {
  if (mode === 'quiet') return work(() => undefined);
  if (mode === 'plain') {
    let next = 0;
    process.stdout.write(`${title}\n`);
    return work((event) => {
      const percent = event.estimatedTotal === 0 ? 100 : (event.bytesRead * 100) / event.estimatedTotal;
      if (percent < next) return;
      next = Math.floor(percent / 10) * 10 + 10;
      process.stdout.write(`  ${describeProgress(event)}\n`);
    });
  }
  let result: T | undefined;
  await new Listr([
    {
      title,
      task: async (_ctx, task) => {
        result = await work((event) => {
          task.title = `${title}: ${describeProgress(event)}`;
        });
      },
    },
  ], { exitOnError: true, registerSignalListeners: false, rendererOptions: { collapseErrors: false } }).run();
  return result as T;
}
