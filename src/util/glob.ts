/**
 * Glob patterns as bootstrap uses them: `**` matches anything, `*` and `?` stay within one path
 * component (components are separated by any of `separators`), everything else is literal.
 * Whole-path match, so a pattern cannot match more than it visibly names. The audit's
 * allow-lists also treat `!` (which joins nested archive members) as a separator.
 */
export function globToRegExp(pattern: string, separators = '/'): RegExp {
  const other = `[^${separators.replace(/[\]^-]/g, '\\$&')}]`;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += `${other}*`;
    else if (c === '?') source += other;
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

export function matchesGlob(path: string, pattern: string, separators = '/'): boolean {
  return globToRegExp(pattern, separators).test(path);
}
