/**
 * Allow-list patterns match member paths (`pkg-1.0/tests/data/*.exe`, nested parts joined with
 * `!`). `**` matches anything, `*` and `?` stay within one path component, everything else is
 * literal. Whole-path match, so a pattern cannot excuse more than it visibly names.
 */
export function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/!]*';
    else if (c === '?') source += '[^/!]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}

export function matchesGlob(path: string, pattern: string): boolean {
  return globToRegExp(pattern).test(path);
}
