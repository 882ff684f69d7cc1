import type { CommandModule } from 'yargs';
import { workOption } from '../options.js';

export const command: CommandModule = {
  command: 'report',
  describe: 'A picture of a run (SVG): phases, steps, attempts and the packages each emerge merged, on a time axis',
  builder: (y) =>
    workOption(y)
      .option('out', { type: 'string', describe: 'Where the SVG goes (default: <work>/report.svg; - for stdout)' })
      .option('json', { type: 'boolean', default: false, describe: 'The same data as one JSON document on stdout' })
      .option('table', { type: 'boolean', default: false, describe: 'The slowest steps and packages as a plain table on stdout' })
      .option('top', { type: 'number', default: 20, describe: 'Rows of each list in --table' })
      .check((argv) => {
        if (!Number.isInteger(argv.top) || (argv.top as number) < 1) throw new Error('--top needs a whole number of 1 or more');
        return true;
      }),
  handler: async (argv) => {
    const { engineDeps, kindOptions, recordedOptions } = await import('../engine-deps.js');
    const { writeReport } = await import('../../report/write-report.js');
    const work = String(argv.work);
    let recorded = {};
    try {
      recorded = recordedOptions(work);
    } catch {
      // A damaged journal is drawn with a note by the report itself, not refused here.
    }
    const deps = engineDeps(kindOptions(argv, recorded));
    await writeReport(work, deps, {
      ...(argv.out !== undefined ? { out: String(argv.out) } : {}),
      json: Boolean(argv.json),
      table: Boolean(argv.table),
      top: Number(argv.top),
    });
  },
};
