import type { CommandModule } from 'yargs';
import { workOption } from '../options.js';

export const command: CommandModule = {
  command: 'status',
  describe: 'Show each step of the run in a work directory and what resume would do next',
  builder: (y) => workOption(y).option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' }),
  handler: async (argv) => {
    const { engineDeps, kindOptions, recordedOptions } = await import('../engine-deps.js');
    const { runStatus } = await import('../../engine/session.js');
    const { printStatus } = await import('../print-status.js');
    const work = String(argv.work);
    const report = await runStatus(work, engineDeps(kindOptions(argv, recordedOptions(work))));
    printStatus(report, Boolean(argv.json));
  },
};
