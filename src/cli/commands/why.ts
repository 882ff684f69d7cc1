import type { CommandModule } from 'yargs';
import { givenParams, recipeParameters, setOption, workOption } from '../options.js';

const KNOWN = new Set(['step', 'work', 'set', 'json', 'help', 'version']);

export const command: CommandModule = {
  command: 'why <step>',
  describe: "Why a step of a run will run again: which inputs of its fingerprint changed since it finished",
  builder: (y) =>
    setOption(workOption(y))
      .strict(false)
      .positional('step', { type: 'string', describe: 'The step id (bootstrap status lists them)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' })
      .epilog('Compares the step as the journal recorded it when it finished with the step as the recipe, the lock and the --set values plan it now (the script, env, parameters, written files, distfiles, the root). Needs no root.'),
  handler: async (argv) => {
    const { engineDeps, kindOptions, recordedOptions } = await import('../engine-deps.js');
    const { whyStep } = await import('../../engine/why.js');
    const { printWhy } = await import('../print-why.js');
    const work = String(argv.work);
    const given = givenParams(argv, KNOWN, await recipeParameters({ work }));
    const report = await whyStep(work, String(argv.step), given, engineDeps(kindOptions(argv, recordedOptions(work))));
    printWhy(report, Boolean(argv.json));
  },
};
