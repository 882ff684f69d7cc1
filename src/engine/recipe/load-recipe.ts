import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootstrapError, errnoCode } from '../../util/errors.js';
import { tempName } from '../../util/temp-name.js';
import { type FieldPath, type LineTable, tableLocator } from './locate.js';
import type { RecipeFile } from './schema.js';

export const RECIPE_FILE = 'recipe.yaml';

export interface LoadedRecipe {
  file: RecipeFile;
  /** Absolute path of the recipe file. */
  path: string;
  /** The recipe's folder; `files/` lives beneath it. */
  dir: string;
  /** sha256 hex of the recipe file's bytes. */
  digest: string;
  /** The line of each field (locate.ts). */
  lines: LineTable;
  /** `file:line` of a field, for error messages. */
  locate(path: FieldPath): string;
}

/**
 * `NAME` is a folder under `recipesDir`; anything with a slash, or an existing path, is a
 * recipe folder or file.
 */
export function findRecipe(nameOrPath: string, recipesDir: string): string {
  const looksLikePath = nameOrPath.includes('/') || nameOrPath.endsWith('.yaml');
  const candidate = looksLikePath ? resolve(nameOrPath) : join(recipesDir, nameOrPath);
  try {
    return statSync(candidate).isDirectory() ? join(candidate, RECIPE_FILE) : candidate;
  } catch (error) {
    if (errnoCode(error) !== 'ENOENT') throw error;
    throw new BootstrapError('ENORECIPE', `no recipe ${looksLikePath ? `at ${candidate}` : `named ${nameOrPath} in ${recipesDir}`}`, {
      hint: 'Give a recipe name from recipes/ (e.g. demo, gentoo-2025) or the path of a recipe folder.',
    });
  }
}

/**
 * The last recipe loaded from each path, with the bytes it was loaded from. A command loads its
 * recipe two or three times (its parameters, to check the options; the plan; a resume's
 * replans). A file read again with other bytes is loaded again. Callers treat a loaded recipe
 * as read-only.
 */
const loaded = new Map<string, { bytes: Buffer; recipe: LoadedRecipe }>();

/**
 * The recipe at `path`. With `work`, the recipe a run there kept (keepRecipe) stands in for
 * parsing it, when it was kept from these very bytes by this very code: a cold YAML parse is
 * the largest part of a `bootstrap status`, which is run again and again during a run.
 */
export async function loadRecipe(path: string, options: { work?: string } = {}): Promise<LoadedRecipe> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new BootstrapError('ENORECIPE', `cannot read recipe ${path}: ${errnoCode(error) ?? String(error)}`, {
      hint: 'Give a recipe name from recipes/ or the path of a recipe folder holding recipe.yaml.',
    });
  }
  const earlier = loaded.get(path);
  if (earlier?.bytes.equals(bytes)) return earlier.recipe;
  const digest = createHash('sha256').update(bytes).digest('hex');
  const parsed = (options.work && readKept(options.work, path, digest)) || (await import('./parse-recipe.js')).parseRecipe(path, bytes);
  const recipe = { file: parsed.file, path, dir: dirname(path), digest, lines: parsed.lines, locate: tableLocator(path, parsed.lines) };
  loaded.set(path, { bytes, recipe });
  return recipe;
}

/** Where a run keeps its parsed recipe, in its work directory. */
export const KEPT_RECIPE = 'recipe.parsed.json';
const KEPT_FORMAT = 1;

interface KeptRecipe {
  format: number;
  /** The code that parsed and validated it: a recipe kept by another build is parsed again. */
  code: string;
  path: string;
  digest: string;
  file: RecipeFile;
  lines: LineTable;
}

let ownCode: string | undefined;
/**
 * This module's own bytes, hashed. In the CLI bundle its chunk imports the parser's chunk by a
 * name that carries that chunk's content hash, so any change to the parser or the schema
 * changes this too.
 */
function codeIdentity(): string {
  ownCode ??= createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).digest('hex');
  return ownCode;
}

function readKept(work: string, path: string, digest: string): Pick<KeptRecipe, 'file' | 'lines'> | undefined {
  let kept: Partial<KeptRecipe>;
  try {
    kept = JSON.parse(readFileSync(join(work, KEPT_RECIPE), 'utf8')) as Partial<KeptRecipe>;
  } catch {
    return undefined; // none, unreadable or torn: it is only ever a shortcut
  }
  if (kept.format !== KEPT_FORMAT || kept.path !== path || kept.digest !== digest || kept.code !== codeIdentity()) return undefined;
  if (typeof kept.file !== 'object' || kept.file === null || typeof kept.lines !== 'object' || kept.lines === null) return undefined;
  return { file: kept.file, lines: kept.lines };
}

/**
 * Keeps a parsed recipe in the work directory of a run that holds its lock, for the commands that
 * read the run afterwards (`status`, `why`, `resume`, `plan --work`). Written beside and renamed
 * into place. A recipe whose values JSON cannot carry exactly (an infinite number) is not kept,
 * nor one that cannot be written: those commands then parse the recipe, as without it.
 */
export function keepRecipe(recipe: LoadedRecipe, work: string): void {
  if (readKept(work, recipe.path, recipe.digest) || !carriedByJson(recipe.file)) return;
  const kept: KeptRecipe = { format: KEPT_FORMAT, code: codeIdentity(), path: recipe.path, digest: recipe.digest, file: recipe.file, lines: recipe.lines };
  const target = join(work, KEPT_RECIPE);
  const temp = tempName(target);
  try {
    writeFileSync(temp, JSON.stringify(kept));
    renameSync(temp, target);
  } catch {
    rmSync(temp, { force: true });
  }
}

function carriedByJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || value === undefined) return true;
  if (Array.isArray(value)) return value.every((item) => item !== undefined && carriedByJson(item));
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value as object).every(carriedByJson);
}
