import { readFile, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { isValidAtom } from './atom.js';

/**
 * Portage profile stacking, as Portage 3.0.66 does it (LocationsManager._addProfile,
 * util.grabfile, util.grabfile_package, util.stack_lists) and as Catalyst and the bootstrap
 * guide use it for `packages.build`. Read-only: nothing here writes.
 */

/** EAPIs Portage 3.0.66.1 can read; a profile declaring another one makes Portage refuse it. */
const SUPPORTED_EAPIS: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8'];

export interface ProfileNode {
  /** Absolute path of the profile directory. */
  dir: string;
  /** First line of its `eapi` file, or null without one (Portage then uses the repository's default). */
  eapi: string | null;
}

/** One significant line of a profile file, as Portage's grabfile keeps it. */
export interface ProfileLine {
  file: string;
  line: number;
  text: string;
}

/**
 * The profile's directories in Portage's order: each `parent` entry depth-first, left to right,
 * then the profile itself. A directory reached twice through different parents appears twice,
 * as in Portage; reaching one from itself is a cycle and an error.
 */
export async function readProfileChain(profilesDir: string, profile: string): Promise<ProfileNode[]> {
  const top = resolve(profilesDir, profile);
  if (!(await isDirectory(top))) {
    throw new BootstrapError('EPROFILE', `profile ${profile} not found: ${top} is not a directory`, {
      hint: `Profiles are paths under ${profilesDir}, e.g. default/linux/amd64/23.0.`,
    });
  }
  const chain: ProfileNode[] = [];
  await addProfile(top, [], chain, resolve(profilesDir));
  return chain;
}

/** The directories of `readProfileChain`, parents first. */
export async function profileChain(profilesDir: string, profile: string): Promise<string[]> {
  return (await readProfileChain(profilesDir, profile)).map((node) => node.dir);
}

async function addProfile(dir: string, stack: string[], chain: ProfileNode[], base: string): Promise<void> {
  const eapi = await readEapi(dir);
  const parentFile = join(dir, 'parent');
  const parents = await readProfileLines(parentFile);
  if (parents && parents.length === 0) {
    throw new BootstrapError('EPROFILE', `${parentFile}: the parent file is empty`, {
      hint: 'Portage refuses an empty parent file: list at least one parent or remove the file.',
    });
  }
  for (const entry of parents ?? []) {
    const where = `${entry.file}:${entry.line}`;
    if (entry.text.startsWith('/') || /^[^/]*:/.test(entry.text)) {
      throw new BootstrapError('EPROFILE', `${where}: parent ${entry.text} is not a relative path`, {
        hint: 'Absolute and repo:path parents are not supported here; the Gentoo repository uses relative paths only.',
      });
    }
    const parent = resolve(dir, entry.text);
    if (!(await isDirectory(parent))) {
      throw new BootstrapError('EPROFILE', `${where}: parent ${entry.text} not found (${parent} is not a directory)`, {
        hint: 'Check the profile tree: is the repository snapshot complete?',
      });
    }
    if (parent === dir || stack.includes(parent)) {
      const loop = [...stack, dir, parent].slice(stack.indexOf(parent) >= 0 ? stack.indexOf(parent) : stack.length).map((d) => relative(base, d) || '.');
      throw new BootstrapError('EPROFILE', `${where}: parent ${entry.text} makes a cycle: ${loop.join(' -> ')}`, {
        hint: 'A profile cannot inherit from itself; remove the parent line that closes the loop.',
      });
    }
    await addProfile(parent, [...stack, dir], chain, base);
  }
  chain.push({ dir, eapi });
}

async function readEapi(dir: string): Promise<string | null> {
  const file = join(dir, 'eapi');
  const text = await readOptional(file);
  if (text === undefined) return null;
  const eapi = (text.split('\n')[0] ?? '').trim();
  if (!SUPPORTED_EAPIS.includes(eapi)) {
    throw new BootstrapError('EPROFILE', `${file}:1: unsupported EAPI ${JSON.stringify(eapi)}`, {
      hint: `Portage 3.0.66.1 reads EAPI ${SUPPORTED_EAPIS.join(', ')}; a newer repository snapshot needs a newer Portage.`,
      expected: SUPPORTED_EAPIS.join(', '),
      found: eapi,
    });
  }
  return eapi;
}

/**
 * The significant lines of a profile file, or undefined when it does not exist. As Portage's
 * grabfile: whitespace is collapsed, a word starting with `#` ends the line, empty lines go.
 */
async function readProfileLines(file: string): Promise<ProfileLine[] | undefined> {
  const text = await readOptional(file);
  if (text === undefined) return undefined;
  const lines: ProfileLine[] = [];
  text.split('\n').forEach((raw, index) => {
    const words: string[] = [];
    for (const word of raw.split(/\s+/).filter(Boolean)) {
      if (word.startsWith('#')) break;
      words.push(word);
    }
    if (words.length) lines.push({ file, line: index + 1, text: words.join(' ') });
  });
  return lines;
}

export interface StackedList {
  atoms: string[];
  /** One line per dropped entry, naming its file and line. */
  warnings: string[];
}

/**
 * The `packages.build` list of a profile, as `stack_lists([grabfile_package(p/packages.build)
 * for p in profiles], incremental=1)` computes it: each profile's file in chain order, `-atom`
 * removes that exact earlier entry, a new atom is appended (an atom already listed keeps its
 * place). grabfile_package treats `-*` and `*atom` as special only in files named `packages`,
 * so in `packages.build` they are invalid atoms: Portage drops them with a warning, and so
 * does this, as it does any other line that is not a valid atom.
 */
export async function stackPackagesBuild(profilesDir: string, profile: string): Promise<StackedList> {
  const files: ProfileLine[][] = [];
  for (const dir of await profileChain(profilesDir, profile)) {
    files.push((await readProfileLines(join(dir, 'packages.build'))) ?? []);
  }
  return stackLines(files);
}

/** Portage's incremental stack_lists over already read files (exported for testing). */
function stackLines(files: ProfileLine[][]): StackedList {
  const atoms: string[] = [];
  const warnings: string[] = [];
  for (const lines of files) {
    for (const entry of lines) {
      const removal = entry.text.startsWith('-');
      const atom = removal ? entry.text.slice(1) : entry.text;
      if (!isValidAtom(atom)) {
        const why = entry.text === '-*' || atom.startsWith('*') ? ' (-* and *atom are only meaningful in a file named packages)' : '';
        warnings.push(`${entry.file}:${entry.line}: ${entry.text} is not a valid atom${why}; Portage drops it, and so does bootstrap`);
        continue;
      }
      const at = atoms.indexOf(atom);
      if (removal) {
        if (at >= 0) atoms.splice(at, 1);
      } else if (at < 0) {
        atoms.push(atom);
      }
    }
  }
  return { atoms, warnings };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}
