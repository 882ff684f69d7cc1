import { BootstrapError } from '../util/errors.js';

/**
 * What a seed leaves out, as in the guide: the directories stay (Portage expects them), their
 * contents go. The distfiles and the repository are large and Catalyst brings its own; var/tmp
 * holds build leftovers.
 */
export const DEFAULT_SEED_EXCLUDES: readonly string[] = ['./var/cache/distfiles/*', './var/db/repos/*', './var/tmp/*'];

/**
 * Exclude patterns are paths relative to the packed root, matched against the whole member name
 * (`./var/tmp/foo`), never against a tail of it: `var/tmp/*` does not drop `./usr/var/tmp/x`.
 * A leading `/` or `./` is optional. `*` matches any characters including `/`, `?` one
 * character, `[abc]` a set (GNU tar's `--anchored --wildcards --wildcards-match-slash`). A pattern
 * that matches a directory drops it with everything below; `dir/*` keeps `dir` and drops its
 * contents. Returns the patterns in the `./…` form tar matches.
 */
export function normalizeExcludes(patterns: readonly string[], where = 'exclude'): string[] {
  return patterns.map((raw, index) => {
    const field = `${where}[${index}]`;
    const bad = (why: string, hint: string) =>
      new BootstrapError('EPACK_EXCLUDE', `${field}: ${why}`, { found: JSON.stringify(raw), expected: 'a path relative to the root, e.g. ./var/tmp/*', hint });
    if (/[\n\r\0]/.test(raw)) throw bad('contains a line break or NUL', 'Write one pattern per entry.');
    const trimmed = raw.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
    if (trimmed === '' || trimmed === '.') throw bad('matches the whole root', 'Name something inside the root, e.g. ./var/tmp/*.');
    if (trimmed.split('/').some((part) => part === '..')) throw bad('leaves the root with ".."', 'Patterns are relative to the packed root.');
    return `./${trimmed}`;
  });
}

/** A literal path as a pattern: the wildcard characters, and the backslash, escaped. */
export function literalPattern(relativePath: string): string {
  return `./${relativePath.replace(/[\\*?[\]]/g, (c) => `\\${c}`)}`;
}
