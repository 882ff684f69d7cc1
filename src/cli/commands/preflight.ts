import type { CommandModule } from 'yargs';
import { KIND_OPTION_NAMES, PROGRESS_OPTION_NAMES, givenParams, recipeParameters, kindOptionFlags, progressOptions, setOption, workOption } from '../options.js';
import type { ViewOptions } from '../run-control.js';

const KNOWN = new Set(['recipe', 'work', 'set', 'until', 'keep', ...PROGRESS_OPTION_NAMES, 'help', 'version', 'r', ...KIND_OPTION_NAMES]);

export const command: CommandModule = {
  command: 'preflight',
  describe: 'Before hours of compiling: run the setup steps in a throwaway overlay of the target and ask the build tool (emerge --pretend) whether every build step resolves',
  builder: (y) =>
    kindOptionFlags(progressOptions(setOption(workOption(y))))
      .strict(false)
      .option('recipe', { alias: 'r', type: 'string', default: 'gentoo-2025', describe: 'Recipe name (under recipes/) or path' })
      .option('until', { type: 'string', describe: 'Stop after this step id (default: the last step with a dry-run form the preflight can reach)' })
      .option('keep', { type: 'boolean', default: false, describe: 'Keep what the steps wrote (<work>/preflight/upper) for a look afterwards' })
      .epilog('Nothing is written to the target: it is the lower layer of an overlay mounted in a private mount namespace. Recipe parameters can be given as --<name> VALUE, e.g. --target DIR.'),
  handler: async (argv) => {
    // The overlay must live in a mount namespace of its own: invisible to the host, and gone
    // with the process whatever kills it.
    const { inPrivateMountNamespace, rerunInPrivateMountNamespace } = await import('../../host/overlay.js');
    if (process.getuid?.() === 0 && !inPrivateMountNamespace()) {
      process.exitCode = await rerunInPrivateMountNamespace();
      return;
    }
    const { engineDeps, kindOptions } = await import('../engine-deps.js');
    const { runPreflight } = await import('../../engine/preflight.js');
    const { preflightHost } = await import('../../host/overlay.js');
    const { chooseReporter, interruptSignal } = await import('../run-control.js');
    const { printPreflight } = await import('../print-preflight.js');
    const options = kindOptions(argv);
    const interrupt = interruptSignal();
    try {
      const report = await runPreflight(
        {
          recipe: String(argv.recipe),
          work: String(argv.work),
          given: givenParams(argv, KNOWN, await recipeParameters({ recipe: String(argv.recipe), work: String(argv.work) })),
          ...(argv.until ? { until: String(argv.until) } : {}),
          keep: Boolean(argv.keep),
          reporter: await chooseReporter(argv as ViewOptions),
          signal: interrupt.signal,
          command: `bootstrap ${process.argv.slice(2).join(' ')}`,
        },
        { ...engineDeps(options), overlay: preflightHost },
      );
      process.exitCode = printPreflight(report, Boolean(argv.json));
    } finally {
      interrupt.dispose();
    }
  },
};
