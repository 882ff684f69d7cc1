import type { Argv } from 'yargs';
import { BootstrapError } from '../util/errors.js';
import { DEFAULT_WORK } from './defaults.js';

export function workOption<T>(y: Argv<T>) {
  return y.option('work', { type: 'string', default: DEFAULT_WORK, describe: 'Work directory: journal, logs, lock' });
}

/** The names progressOptions adds (aliases too), for the commands that tell options from recipe parameters. */
export const PROGRESS_OPTION_NAMES = ['plain', 'json', 'quiet', 'q', 'verbose', 'v'];

export function progressOptions<T>(y: Argv<T>) {
  return y
    .option('plain', { type: 'boolean', default: false, describe: 'Plain progress lines (the default without a terminal)' })
    .option('json', { type: 'boolean', default: false, describe: 'JSON lines on stdout; the last one is the run-ended event' })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Only the final result and errors' })
    .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'Every output line of every step, as plain lines' });
}

export function setOption<T>(y: Argv<T>) {
  return y.option('set', { type: 'string', array: true, default: [] as string[], describe: 'Set a recipe parameter: --set key=value (repeatable); --<parameter> VALUE also works' });
}

/**
 * `--set k=v` values, plus recipe parameters given as their own options (`--target DIR`).
 * `parameters` are the chosen recipe's declared parameters, when it could be loaded: any other
 * option the command does not know is refused as unknown, with the nearest known option or
 * parameter as a suggestion (yargs runs these commands with strict(false) so that parameters
 * can be options, and so suggests nothing itself).
 */
export function givenParams(argv: Record<string, unknown>, known: ReadonlySet<string>, parameters?: readonly string[]): Record<string, string> {
  const given: Record<string, string> = {};
  for (const item of (argv.set as string[] | undefined) ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new BootstrapError('EUSAGE', `--set ${item}: expected key=value`, { hint: 'For example --set jobs=4.' });
    given[item.slice(0, eq)] = item.slice(eq + 1);
  }
  for (const [key, value] of Object.entries(argv)) {
    if (known.has(key) || key === '_' || key === '$0' || /[A-Z]/.test(key)) continue;
    const name = key.replace(/-/g, '_');
    if (parameters && !parameters.includes(name)) {
      const candidates = [...[...known].filter((k) => k.length > 1 && k !== 'version'), ...parameters];
      const near = nearest(key, candidates);
      throw new BootstrapError('EUSAGE', `unknown option --${key}${near ? `; did you mean --${near}?` : ''}`, {
        hint: `See --help for the options${parameters.length ? `; the recipe's parameters are ${parameters.map((p) => `--${p}`).join(', ')}` : ''}.`,
      });
    }
    if (Array.isArray(value) || typeof value === 'boolean' || value === undefined) {
      throw new BootstrapError('EUSAGE', `--${key} needs one value`, { hint: `Give a recipe parameter as --${key} VALUE or --set ${name}=VALUE.` });
    }
    given[name] = String(value);
  }
  return given;
}

/** The candidate closest to `word` by edit distance, if it is close enough to be a likely misspelling. */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The declared parameters of the recipe a command will use (by name or path, or else the one the
 * run in `work` recorded), or undefined when it cannot be loaded: planning then reports why.
 */
export async function recipeParameters(source: { recipe?: string; work: string }): Promise<string[] | undefined> {
  try {
    const { findRecipe, loadRecipe } = await import('../engine/recipe/load-recipe.js');
    let path: string;
    if (source.recipe !== undefined) {
      const { RECIPES_DIR } = await import('./defaults.js');
      path = findRecipe(source.recipe, RECIPES_DIR);
    } else {
      const { readJournal } = await import('../engine/journal.js');
      const first = readJournal(source.work, { head: true })?.events[0];
      if (first?.type !== 'run-started') return undefined;
      path = first.recipe.path;
    }
    return Object.keys((await loadRecipe(path, { work: source.work })).file.parameters);
  } catch {
    return undefined;
  }
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
