import type * as z from 'zod';
import { BootstrapError } from '../../util/errors.js';

export type FieldPath = ReadonlyArray<PropertyKey>;

/**
 * The line of every node of a recipe, by field path (`lineKey`): made when the YAML is parsed
 * (parse-recipe.ts) and kept with a parsed recipe in a work directory (load-recipe.ts), so that a
 * recipe read from there still names `file:line` without parsing its YAML again.
 */
export type LineTable = Record<string, number>;

export function lineKey(path: FieldPath): string {
  return JSON.stringify(path);
}

/** `phases[0].steps[2].script` */
export function fieldName(path: FieldPath): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** Maps a field path to `file:line`, falling back to the nearest parent that has a line. */
export function tableLocator(file: string, lines: LineTable): (path: FieldPath) => string {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const line = lines[lineKey(path.slice(0, n))];
      if (line !== undefined) return `${file}:${line}`;
    }
    return file;
  };
}

/** One error listing every schema issue as `file:line: field: message`. */
export function schemaError(
  issues: ReadonlyArray<z.core.$ZodIssue>,
  locate: (path: FieldPath) => string,
  prefix: FieldPath = [],
  hint = 'Fix the fields named above; docs/recipe-format.md describes each one.',
): BootstrapError {
  const lines = issues.slice(0, 12).map((issue) => {
    const path = [...prefix, ...issue.path];
    const field = fieldName(path) || '(top level)';
    return `${locate(path)}: ${field}: ${describeIssue(issue)}`;
  });
  if (issues.length > 12) lines.push(`… and ${issues.length - 12} more`);
  return new BootstrapError('ERECIPE', lines.length === 1 ? lines[0]! : `invalid recipe:\n  ${lines.join('\n  ')}`, { hint });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && issue.message.includes('received undefined')) return 'is required';
  return issue.message;
}
