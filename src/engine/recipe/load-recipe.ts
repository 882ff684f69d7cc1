import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { BootstrapError, errnoCode } from '../../util/errors.js';
import { type FieldPath, schemaError, yamlLocator } from './locate.js';
import { recipeSchema, type RecipeFile } from './schema.js';

export const RECIPE_FILE = 'recipe.yaml';
const MAX_ALIAS_COUNT = 100;

export interface LoadedRecipe {
  file: RecipeFile;
  /** Absolute path of the recipe file. */
  path: string;
  /** The recipe's folder; `files/` lives beneath it. */
  dir: string;
  /** sha256 hex of the recipe file's bytes. */
  digest: string;
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
 * replans), and yaml's parse of a cold process is most of a short command's time. A file read
 * again with other bytes is loaded again. Callers treat a loaded recipe as read-only.
 */
const loaded = new Map<string, { bytes: Buffer; recipe: LoadedRecipe }>();

export function loadRecipe(path: string): LoadedRecipe {
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
  const counter = new LineCounter();
  const doc = parseDocument(bytes.toString('utf8'), { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const line = counter.linePos(syntax.pos[0]).line;
    throw new BootstrapError('ERECIPE', `${path}:${line}: ${syntax.message.split('\n')[0]}`, {
      hint: 'The recipe is not valid YAML; fix the line named above.',
    });
  }
  const locate = yamlLocator(path, doc, counter);
  let data: unknown;
  try {
    // yaml's own guard against alias bombs ("billion laughs"), stated so that it stays on.
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new BootstrapError('ERECIPE', `${path}: ${error instanceof Error ? error.message : String(error)} (more than ${MAX_ALIAS_COUNT} alias expansions)`, {
      hint: 'A recipe has no need for deeply nested YAML aliases; write the values out.',
    });
  }
  const parsed = recipeSchema.safeParse(data);
  if (!parsed.success) throw schemaError(parsed.error.issues, locate);
  const file = parsed.data;
  checkUniqueIds(file, locate);
  const recipe = { file, path, dir: dirname(path), digest: createHash('sha256').update(bytes).digest('hex'), locate };
  loaded.set(path, { bytes, recipe });
  return recipe;
}

function checkUniqueIds(file: RecipeFile, locate: (path: FieldPath) => string): void {
  const seen = new Map<string, string>();
  file.phases.forEach((phase, p) =>
    phase.steps.forEach((step, s) => {
      const where = locate(['phases', p, 'steps', s, 'id']);
      const earlier = seen.get(step.id);
      if (earlier) {
        throw new BootstrapError('ERECIPE', `${where}: step id ${step.id} is used twice (first at ${earlier})`, {
          hint: 'Step ids must be unique: resume and status name steps by id.',
        });
      }
      seen.set(step.id, where);
    }),
  );
}
