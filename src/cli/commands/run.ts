import type { CommandModule } from 'yargs';
import type { ViewOptions } from '../run-control.js';
import { KIND_OPTION_NAMES, PROGRESS_OPTION_NAMES, givenParams, recipeParameters, kindOptionFlags, progressOptions, setOption, workOption } from '../options.js';

const KNOWN = new Set(['recipe', 'work', 'set', 'until', 'fresh', ...PROGRESS_OPTION_NAMES, 'help', 'version', 'r', ...KIND_OPTION_NAMES]);

export const command: CommandModule = {
  command: 'run',
  describe: 'Run a recipe from its first step (needs root for chroot steps)',
  builder: (y) =>
    kindOptionFlags(progressOptions(setOption(workOption(y))))
      .strict(false)
      .option('recipe', { alias: 'r', type: 'string', default: 'gentoo-2025', describe: 'Recipe name (under recipes/) or path' })
      .option('until', { type: 'string', describe: 'Stop after this step id' })
      .option('fresh', { type: 'boolean', default: false, describe: 'Start over in a work directory that holds an earlier run (its journal is kept aside)' })
      .epilog('Recipe parameters can be given as --<name> VALUE, e.g. --target DIR.'),
  handler: async (argv) => {
    const { engineDeps, kindOptions } = await import('../engine-deps.js');
    const { startRun } = await import('../../engine/session.js');
    const { chooseReporter, endJsonOnError, interruptSignal, reportResult, runErrorEvent } = await import('../run-control.js');
    const work = String(argv.work);
    const options = kindOptions(argv);
    const interrupt = interruptSignal();
    try {
      await endJsonOnError(Boolean(argv.json), runErrorEvent, async () => {
      const { result, plan } = await startRun(
        {
          recipe: String(argv.recipe),
          work,
          given: givenParams(argv, KNOWN, await recipeParameters({ recipe: String(argv.recipe), work: String(argv.work) })),
          fresh: Boolean(argv.fresh),
          ...(argv.until ? { until: String(argv.until) } : {}),
          reporter: await chooseReporter(argv as ViewOptions),
          signal: interrupt.signal,
          command: `bootstrap ${process.argv.slice(2).join(' ')}`,
          options: { lock: options.lock, distdir: options.distdir, mirrors: options.mirrors, record: options.record, pin: options.pin },
        },
        engineDeps(options),
      );
      process.exitCode = reportResult(result, plan.params.values.work!, Boolean(argv.json));
      });
    } finally {
      interrupt.dispose();
    }
  },
};
