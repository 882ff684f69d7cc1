/**
 * Reads a spec file the way Catalyst's SpecParser (catalyst/config.py) does, for tests only:
 * `#` starts a comment anywhere on a line; a line holding `:` starts a key (split at the first
 * `:`, surrounding `"` stripped from the value); other lines add whitespace-separated tokens to
 * the current key; a `%` in a key line's value raises, as Python's `%` formatting would there.
 * A key with one token maps to a string, more to a list, none is dropped.
 */
export function parseCatalystSpec(text: string): Record<string, string | string[]> {
  const values: Record<string, string[]> = {};
  let current: string | undefined;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim().replace(/\s*#.*$/, '');
    if (line === '') return;
    const colon = line.indexOf(':');
    if (colon >= 0) {
      current = line.slice(0, colon);
      const value = line.slice(colon + 1).trim().replace(/^"+|"+$/g, '');
      if (value.includes('%')) throw new Error(`line ${index + 1}: "%" in the value of ${current} breaks Catalyst's parser`);
      values[current] = value ? value.split(/\s+/) : [];
      return;
    }
    if (current === undefined) throw new Error(`line ${index + 1}: continuation line before any key`);
    values[current]!.push(...line.split(/\s+/));
  });
  const out: Record<string, string | string[]> = {};
  for (const [key, tokens] of Object.entries(values)) {
    if (tokens.length === 1) out[key] = tokens[0]!;
    else if (tokens.length > 1) out[key] = tokens;
  }
  return out;
}
