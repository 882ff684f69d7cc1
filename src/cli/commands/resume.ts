import type { CommandModule } from 'yargs';
import type { ViewOptions } from '../run-control.js';
import { KIND_OPTION_NAMES, PROGRESS_OPTION_NAMES, givenParams, recipeParameters, kindOptionFlags, progressOptions, setOption, workOption } from '../options.js';

const KNOWN = new Set(['work', 'from', 'set', 'until', ...PROGRESS_OPTION_NAMES, 'help', 'version', ...KIND_OPTION_NAMES]);

export const command: CommandModule = {
  command: 'resume',
  describe: 'Continue a failed or interrupted run: finished, unchanged steps are not redone',
  builder: (y) =>
    kindOptionFlags(progressOptions(setOption(workOption(y))))
      .strict(false)
      .option('from', { type: 'string', describe: 'Restart from this step id (and re-run everything after it)' })
      .option('until', { type: 'string', describe: 'Stop after this step id' }),
  handler: async (argv) => {
    const { engineDeps, kindOptions, recordedOptions } = await import('../engine-deps.js');
    const { resumeRun } = await import('../../engine/session.js');
    const { chooseReporter, endJsonOnError, interruptSignal, reportResult, runErrorEvent } = await import('../run-control.js');
    const { resolve } = await import('node:path');
    const work = resolve(String(argv.work));
    const interrupt = interruptSignal();
    try {
      await endJsonOnError(Boolean(argv.json), runErrorEvent, async () => {
      const { result, point, plan } = await resumeRun(
        {
          work,
          given: givenParams(argv, KNOWN, await recipeParameters({ work })),
          ...(argv.from ? { from: String(argv.from) } : {}),
          ...(argv.until ? { until: String(argv.until) } : {}),
          reporter: await chooseReporter(argv as ViewOptions),
          signal: interrupt.signal,
          command: `bootstrap ${process.argv.slice(2).join(' ')}`,
        },
        engineDeps(kindOptions(argv, recordedOptions(work))),
      );
      // Where this resume started and why, worded so that it does not read as this run's result.
      const from = plan.steps[point.startIndex];
      if (result.status !== 'nothing-to-do' && from && !argv.quiet) {
        process.stderr.write(`Resumed from step ${from.id} (${point.reason.startsWith('step ') ? `in the last run, ${point.reason}` : point.reason}).\n`);
      }
      process.exitCode = reportResult(result, work, Boolean(argv.json));
      });
    } finally {
      interrupt.dispose();
    }
  },
};
