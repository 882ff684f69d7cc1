import type { CommandModule } from 'yargs';
import { DEFAULT_DISTDIR, DEFAULT_LOCK } from '../defaults.js';

interface FetchArgs {
  lock: string;
  dest: string;
  only?: string[];
  mirror?: string[];
  jobs: number;
  pin: boolean;
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  'speed-limit': number;
  'speed-time': number;
}

export const command: CommandModule<object, FetchArgs> = {
  command: 'fetch',
  describe: 'Download the distfiles of the lock into a directory, verified against their size and digests',
  builder: (yargs) =>
    yargs
      .option('lock', { type: 'string', default: DEFAULT_LOCK, describe: 'The lock file (the project\'s, which run uses)' })
      .option('dest', { type: 'string', default: DEFAULT_DISTDIR, describe: 'Directory the verified files go to (the store run uses with the default --work)' })
      .option('only', { type: 'string', array: true, describe: 'Fetch only these entries (by file name)' })
      .option('mirror', { type: 'string', array: true, describe: 'Tried first, as MIRROR/<file>: an http(s) URL or a directory (repeatable)' })
      .option('jobs', { type: 'number', default: 4, describe: 'Downloads at once' })
      .option('pin', { type: 'boolean', default: false, describe: 'Fetch unpinned entries too and write their size and digests into the lock (trust on first use)' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout (also on failure: {"dest", "error"})' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only the final result and errors' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'A line for every download event (source tried, given up on, verified)' })
      .option('speed-limit', { type: 'number', default: 1024, describe: 'Bytes per second below which (over --speed-time) a source is given up on for the next one; 0: never' })
      .option('speed-time', { type: 'number', default: 30, describe: 'Seconds over which --speed-limit is measured' }),
  handler: async (args) => {
    const { resolve } = await import('node:path');
    const { endJsonOnError } = await import('../run-control.js');
    await endJsonOnError(args.json, (error) => ({ dest: resolve(args.dest), error }), () => fetch(args));
  },
};

async function fetch(args: FetchArgs): Promise<void> {
    const { resolve } = await import('node:path');
    const { BootstrapError } = await import('../../util/errors.js');
    const { ensureDistfiles } = await import('../../distfiles/ensure.js');
    const { readLock } = await import('../../distfiles/read-lock.js');
    const { describeEvent, withFetchProgress } = await import('../../distfiles/progress.js');
    const { mib } = await import('../../util/format.js');
    if (args.quiet && args.verbose) throw new BootstrapError('EUSAGE', '--quiet and --verbose contradict each other', { hint: 'Give one of them.' });
    if (!Number.isInteger(args.jobs) || args.jobs < 1) throw new BootstrapError('EUSAGE', `--jobs ${args.jobs}: give a whole number of 1 or more`);
    const speedLimit = args['speed-limit'];
    const speedTime = args['speed-time'];
    if (!(speedLimit >= 0)) throw new BootstrapError('EUSAGE', `--speed-limit ${speedLimit}: give bytes per second, 0 or more`);
    if (!(speedTime > 0)) throw new BootstrapError('EUSAGE', `--speed-time ${speedTime}: give a number of seconds above 0`);
    const tuning = { minSpeedBytesPerSecond: speedLimit, minSpeedWindowMs: Math.round(speedTime * 1000) };
    const lockPath = resolve(args.lock);
    const names = args.only ?? [];
    const total = names.length > 0 ? new Set(names).size : Object.keys((await readLock(lockPath)).distfiles).length;
    const { interruptSignal } = await import('../run-control.js');
    const interrupt = interruptSignal();
    // Work that nobody will ever finish (a lost promise) would let Node end with status 0 and
    // no word: say so and fail instead.
    const unfinished = (): void => {
      process.stderr.write('bootstrap fetch: stopped before it finished (internal error: pending work was lost); nothing was verified\n');
      process.exitCode = 1;
    };
    process.once('beforeExit', unfinished);
    try {
      const fetchAll = (onProgress: Parameters<Parameters<typeof withFetchProgress>[2]>[0]) =>
        ensureDistfiles({ lockPath, storeDir: resolve(args.dest), names, mirrors: args.mirror, jobs: args.jobs, pin: args.pin, onProgress, signal: interrupt.signal, tuning });
      const files = args.verbose && !args.json
        ? await fetchAll((event) => process.stderr.write(`${describeEvent(event) ?? JSON.stringify(event)}\n`))
        : await withFetchProgress(total, { quiet: args.json || args.quiet }, fetchAll);
      if (args.json) {
        process.stdout.write(`${JSON.stringify({ dest: resolve(args.dest), files }, null, 2)}\n`);
      } else {
        const bytes = Object.values(files).reduce((sum, f) => sum + f.size, 0);
        process.stdout.write(`${Object.keys(files).length} distfiles verified in ${resolve(args.dest)} (${mib(bytes)})\n`);
      }
    } finally {
      process.off('beforeExit', unfinished);
      interrupt.dispose();
    }
}
