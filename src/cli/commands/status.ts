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
    const { endJsonOnError } = await import('../end-json-on-error.js');
    const work = String(argv.work);
    // With --json, a status that cannot be read (no run here) is still one document on stdout.
    await endJsonOnError(Boolean(argv.json), (error) => ({ work, error }), async () => {
      const report = await runStatus(work, engineDeps(kindOptions(argv, recordedOptions(work))));
      printStatus(report, Boolean(argv.json));
    });
  },
};
