import { isNode, LineCounter, type Document } from 'yaml';
import type * as z from 'zod';
import { BootstrapError } from '../../util/errors.js';

export type FieldPath = ReadonlyArray<PropertyKey>;

/** `phases[0].steps[2].script` */
export function fieldName(path: FieldPath): string {
  return path
    .map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`))
    .join('');
}

/** Maps a field path in a YAML document to `file:line`, falling back to the nearest parent. */
export function yamlLocator(file: string, doc: Document, counter: LineCounter): (path: FieldPath) => string {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return `${file}:${counter.linePos(node.range[0]).line}`;
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
