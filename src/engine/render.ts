import { BootstrapError } from '../util/errors.js';
import { shellWord } from '../util/shell-quote.js';
import { isShellSafe } from './shell-template.js';

const PLACEHOLDER = /\{\{\s*(?:(raw)\s*:\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export interface RenderOptions {
  /**
   * The text is a shell script: `{{name}}` becomes one shell-quoted word, `{{raw:name}}` the
   * value as is (the recipe's load refuses it for a parameter whose pattern admits shell syntax).
   */
  shell?: boolean;
}

/**
 * Fills `{{name}}` placeholders; an unknown name is an error that says where it was used.
 * Outside shell fields a value goes in as it is, and `{{raw:name}}` is an error.
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>, where: string, options: RenderOptions = {}): string {
  return text.replace(PLACEHOLDER, (_match, raw: string | undefined, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new BootstrapError('EPARAM', `${where}: unknown parameter {{${raw ? 'raw:' : ''}${name}}}`, {
        hint: `Declare ${name} under parameters: in the recipe, or use one of: ${Object.keys(values).sort().join(', ')}.`,
      });
    }
    if (!options.shell) {
      if (raw) {
        throw new BootstrapError('ERECIPE', `${where}: {{raw:${name}}} is for shell scripts only; here {{${name}}} is already the value as it is`, {
          hint: `Write {{${name}}}.`,
        });
      }
      return value;
    }
    if (!raw) return shellWord(value);
    // Load time refused a raw placeholder of a parameter whose pattern admits shell syntax; this
    // holds the line should a value reach here some other way (e.g. a built-in from a journal).
    // `<name>` is what `bootstrap plan` shows for a value not given, and never runs.
    if (!isShellSafe(value) && value !== `<${name}>`) {
      throw new BootstrapError('EPARAM', `${where}: {{raw:${name}}}: the value ${JSON.stringify(value)} holds characters a shell would read as syntax`, {
        hint: `Give ${name} a value of letters, digits and _@%+=:,./- only.`,
      });
    }
    return value;
  });
}

/** Names of the parameters a text refers to. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[2]!);
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
