import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { RecipeFile } from './recipe/schema.js';

/**
 * What is missing when `rootPath` is not the recipe's starting point: the recipe names a file
 * its starting point has (`starting_point.file`, e.g. live-bootstrap's /steps/manifest).
 * Undefined when the path has it, is no directory, or the recipe names no such file.
 */
export function startingPointMissing(file: Pick<RecipeFile, 'starting_point'>, rootPath: string): string | undefined {
  const point = file.starting_point;
  if (!point?.file) return undefined;
  const path = resolve(rootPath);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return undefined;
  if (existsSync(join(path, point.file))) return undefined;
  return `${path} is not ${point.name} output (no ${point.file.replace(/^\//, '')} in it)`;
}
