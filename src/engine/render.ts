import { BootstrapError } from '../util/errors.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Fills `{{name}}` placeholders; an unknown name is an error that says where it was used. */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>, where: string): string {
  return text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new BootstrapError('EPARAM', `${where}: unknown parameter {{${name}}}`, {
        hint: `Declare ${name} under parameters: in the recipe, or use one of: ${Object.keys(values).sort().join(', ')}.`,
      });
    }
    return value;
  });
}

/** Names of the parameters a text refers to. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** Renders every string inside a JSON-like value, reporting the field path of a bad one. */
export function renderDeep(
  value: unknown,
  render: (text: string, path: ReadonlyArray<PropertyKey>) => string,
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') return render(value, path);
  if (Array.isArray(value)) return value.map((item, i) => renderDeep(item, render, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, render, [...path, k])]));
  }
  return value;
}
