import type { CommandModule } from 'yargs';
import { KIND_OPTION_NAMES, givenParams, recipeParameters, kindOptionFlags, setOption, workOption } from '../options.js';

const KNOWN = new Set(['recipe', 'work', 'set', 'json', 'scripts', 'verbose', 'v', 'help', 'version', 'r', ...KIND_OPTION_NAMES]);

export const command: CommandModule = {
  command: 'plan',
  describe: 'Show everything a run would do, without running anything or needing root',
  builder: (y) =>
    kindOptionFlags(setOption(workOption(y)))
      .strict(false)
      .option('recipe', { alias: 'r', type: 'string', default: 'gentoo-2025', describe: 'Recipe name (under recipes/) or path' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout (with the refusals)' })
      .option('scripts', { type: 'boolean', default: false, describe: 'After the summary, every step in full: scripts, files, distfiles' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'The same as --scripts' })
      .epilog('Recipe parameters can be given as --<name> VALUE, e.g. --target DIR. Exits 2 when a run would be refused (the reason is the last line), 0 otherwise.'),
  handler: async (argv) => {
    const { engineDeps, kindOptions } = await import('../engine-deps.js');
    const { planRecipe } = await import('../../engine/session.js');
    const { printPlan } = await import('../print-plan.js');
    const work = String(argv.work);
    const plan = await planRecipe({ recipe: String(argv.recipe), work, given: givenParams(argv, KNOWN, await recipeParameters({ recipe: String(argv.recipe), work: String(argv.work) })), allowMissing: true }, engineDeps(kindOptions(argv)));
    const refusals = printPlan(plan, { json: Boolean(argv.json), scripts: Boolean(argv.scripts) || Boolean(argv.verbose) });
    if (refusals.length) process.exitCode = 2;
  },
};
