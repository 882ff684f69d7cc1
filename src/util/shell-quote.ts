/** Quotes one word for a POSIX shell, leaving plain words as they are. */
export function shellWord(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** An argv as one line a POSIX shell reads back into the same words. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map(shellWord).join(' ');
}
