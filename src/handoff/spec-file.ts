import { BootstrapError } from '../util/errors.js';

/**
 * One `key: value` entry of a Catalyst spec. A string is one token (Catalyst splits values on
 * whitespace, so a path with a space would silently become two); an array is a list, written
 * on the key line when `inline` (like releng's `update_seed_command`) or one token per
 * indented continuation line (like releng's `livecd/packages`).
 */
export interface SpecEntry {
  key: string;
  value: string | string[];
  inline?: boolean;
  /** A comment line written above the entry. */
  comment?: string;
  /** An empty line before the entry, to group keys as releng does. */
  gap?: boolean;
}

const KEY = /^[A-Za-z0-9_][A-Za-z0-9_./+-]*$/;

/**
 * Checks a token against Catalyst's spec parser (catalyst/config.py): `#` starts a comment
 * anywhere, a line holding `:` starts a new key, surrounding `"` are stripped, and the value on
 * a key line goes through Python `%` formatting, so a literal `%` raises.
 */
export function checkToken(file: string, key: string, token: string, onKeyLine: boolean): void {
  const fail = (what: string, hint: string) =>
    new BootstrapError(what === '%' ? 'EHANDOFF_SPEC_PERCENT' : 'EHANDOFF_SPEC_VALUE', `${file}: value of ${key} contains ${what}, which Catalyst's spec parser cannot take`, {
      found: token,
      hint,
    });
  if (token.includes('%')) throw fail('%', `Catalyst formats spec values with Python's % operator, so ${key} must not contain "%": choose a path or name without it.`);
  if (token.includes('#')) throw fail('"#"', `Catalyst cuts everything after "#" as a comment: choose a ${key} without it.`);
  if (token === '' || /\s/.test(token)) throw fail('whitespace', `Catalyst splits values on whitespace: choose a ${key} without spaces.`);
  if (!onKeyLine && token.includes(':')) throw fail('":"', `A list item with ":" would start a new key: remove it from ${key}.`);
  if (onKeyLine && (token.startsWith('"') || token.endsWith('"'))) throw fail('a leading or trailing quote', `Catalyst strips quotes around values: remove them from ${key}.`);
  if (/[\u0000-\u001f\u007f]/.test(token)) throw fail('a control character', `Remove control characters from ${key}.`);
}

/** Renders a spec, refusing anything Catalyst would read differently from what we mean. */
export function renderSpec(file: string, entries: SpecEntry[]): string {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    if (!KEY.test(entry.key)) {
      throw new BootstrapError('EHANDOFF_SPEC_VALUE', `${file}: ${JSON.stringify(entry.key)} is not a spec key`, { hint: 'Spec keys are words and slashes, e.g. livecd/packages.' });
    }
    if (seen.has(entry.key)) throw new BootstrapError('EHANDOFF_SPEC_VALUE', `${file}: key ${entry.key} given twice`, { hint: 'Catalyst keeps only the last one; give each key once.' });
    seen.add(entry.key);
    if (entry.gap && lines.length > 0) lines.push('');
    if (entry.comment) lines.push(`# ${entry.comment}`);
    const tokens = typeof entry.value === 'string' ? [entry.value] : entry.value;
    if (tokens.length === 0) {
      throw new BootstrapError('EHANDOFF_SPEC_VALUE', `${file}: key ${entry.key} has no value`, { hint: 'Catalyst deletes empty keys; leave the key out instead.' });
    }
    const onKeyLine = typeof entry.value === 'string' || entry.inline === true;
    for (const token of tokens) checkToken(file, entry.key, token, onKeyLine);
    if (onKeyLine) lines.push(`${entry.key}: ${tokens.join(' ')}`);
    else lines.push(`${entry.key}:`, ...tokens.map((t) => `\t${t}`));
  }
  return `${lines.join('\n')}\n`;
}
