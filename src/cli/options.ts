import type { Argv } from 'yargs';
import { BootstrapError } from '../util/errors.js';
import { DEFAULT_WORK } from './defaults.js';

export function workOption<T>(y: Argv<T>) {
  return y.option('work', { type: 'string', default: DEFAULT_WORK, describe: 'Work directory: journal, logs, lock' });
}

export function progressOptions<T>(y: Argv<T>) {
  return y
    .option('plain', { type: 'boolean', default: false, describe: 'Plain progress lines (the default without a terminal)' })
    .option('json', { type: 'boolean', default: false, describe: 'JSON lines on stdout' });
}

export function setOption<T>(y: Argv<T>) {
  return y.option('set', { type: 'string', array: true, default: [] as string[], describe: 'Set a recipe parameter: --set key=value (repeatable); --<parameter> VALUE also works' });
}

/** `--set k=v` values, plus recipe parameters given as their own options (`--target DIR`). */
export function givenParams(argv: Record<string, unknown>, known: ReadonlySet<string>): Record<string, string> {
  const given: Record<string, string> = {};
  for (const item of (argv.set as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new BootstrapError('EUSAGE', `--set ${item}: expected key=value`, { hint: 'For example --set jobs=4.' });
    given[item.slice(0, eq)] = item.slice(eq + 1);
  }
  for (const [key, value] of Object.entries(argv)) {
    if (known.has(key) || key === '_' || key === '$0' || /[A-Z]/.test(key)) continue;
    if (Array.isArray(value) || typeof value === 'boolean' || value === undefined) {
      throw new BootstrapError('EUSAGE', `--${key} needs one value`, { hint: `Give a recipe parameter as --${key} VALUE or --set ${key.replace(/-/g, '_')}=VALUE.` });
    }
    given[key.replace(/-/g, '_')] = String(value);
  }
  return given;
}

/** Options that shape the step kinds; a run records them in its journal and resume reuses them. */
export function kindOptionFlags<T>(y: Argv<T>) {
  return y
    .option('lock', { type: 'string', describe: 'distfiles.lock to use (default: the project\'s)' })
    .option('distdir', { type: 'string', describe: 'Host store of verified distfiles (default: <work>/distfiles)' })
    .option('mirror', { type: 'string', array: true, describe: 'Mirror tried first for distfiles: URL or directory (repeatable)' })
    .option('record', { type: 'boolean', describe: 'Let Portage fetch in the chroots and add what it fetched to the lock' })
    .option('pin', { type: 'boolean', describe: 'Trust unpinned lock entries on first use and write their digests into the lock' });
}

export const KIND_OPTION_NAMES = ['lock', 'distdir', 'mirror', 'record', 'pin'];
