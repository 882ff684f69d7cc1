/**
 * Parameters in shell fields (a `run` step's `script`, a root's `prelude` and
 * `preflight_prelude`): `{{name}}` becomes one shell-quoted word, which is only right where the
 * shell reads words, not inside quotes, comments or here-documents; `{{raw:name}}` is the value
 * as is, which is only safe for a value that cannot hold shell syntax.
 */

/** What shellWord leaves unquoted: characters with no meaning to a POSIX shell. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]*$/;

/** Built-in parameters that are always plain numbers. */
export const NUMERIC_BUILTINS: ReadonlySet<string> = new Set(['host_cores', 'host_memory_gib', 'host_jobs', 'host_load']);

export function isShellSafe(value: string): boolean {
  return SHELL_SAFE.test(value);
}

/**
 * True when every string the regular expression (as `resolveParams` uses it: whole value, no
 * flags) can match is made of shell-safe characters. A conservative reading of the pattern: any
 * construct it does not know (`.`, `\s`, `[^…]`, escapes of letters other than d, w, b, B) makes
 * the answer false.
 */
export function patternIsShellSafe(pattern: string): boolean {
  const p = pattern;
  let i = 0;
  const safeLiteral = (c: string) => c.length === 1 && SHELL_SAFE.test(c);
  // An escaped character that stands for itself (punctuation), or null.
  const escapedLiteral = (c: string | undefined) => (c !== undefined && !/[A-Za-z0-9]/.test(c) ? c : null);
  while (i < p.length) {
    const c = p[i]!;
    if (c === '\\') {
      const e = p[i + 1];
      if (e !== undefined && 'dwbB'.includes(e)) {
        i += 2;
        continue;
      }
      const lit = escapedLiteral(e);
      if (lit === null || !safeLiteral(lit)) return false;
      i += 2;
      continue;
    }
    if (c === '[') {
      const end = classEnd(p, i);
      if (end < 0 || !classIsShellSafe(p.slice(i + 1, end))) return false;
      i = end + 1;
      continue;
    }
    if (c === '(') {
      const group = /^\((?:\?(?::|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>))?/.exec(p.slice(i))![0];
      if (p[i + 1] === '?' && group.length === 1) return false;
      i += group.length;
      continue;
    }
    if (c === '{') {
      const quantifier = /^\{\d+(?:,\d*)?\}/.exec(p.slice(i));
      if (!quantifier) return false;
      i += quantifier[0].length;
      continue;
    }
    if (c === '.') return false; // any character
    if (')|*+?^$'.includes(c)) {
      i++;
      continue;
    }
    if (!safeLiteral(c)) return false;
    i++;
  }
  return true;
}

/** Index of the `]` closing the class opened at `start`, or -1. */
function classEnd(p: string, start: number): number {
  for (let j = start + 1; j < p.length; j++) {
    if (p[j] === '\\') j++;
    else if (p[j] === ']') return j;
  }
  return -1;
}

function classIsShellSafe(body: string): boolean {
  if (body.startsWith('^') || body === '') return false;
  const items: Array<string | 'class'> = [];
  for (let j = 0; j < body.length; j++) {
    if (body[j] === '\\') {
      const e = body[j + 1];
      if (e === 'd' || e === 'w') items.push('class');
      else if (e !== undefined && !/[A-Za-z0-9]/.test(e)) items.push(e);
      else return false;
      j++;
    } else items.push(body[j]!);
  }
  for (let k = 0; k < items.length; k++) {
    const item = items[k]!;
    if (item === 'class') continue;
    const to = items[k + 2];
    if (items[k + 1] === '-' && to !== undefined && to !== 'class') {
      for (let code = item.charCodeAt(0); code <= to.charCodeAt(0); code++) if (!SHELL_SAFE.test(String.fromCharCode(code))) return false;
      k += 2;
      continue;
    }
    if (!SHELL_SAFE.test(item)) return false;
  }
  return true;
}

export type ShellContext = 'word' | 'single quotes' | 'double quotes' | 'backquotes' | 'arithmetic' | 'a comment' | 'a here-document' | 'after a backslash' | 'after a $';

export interface PlaceholderUse {
  name: string;
  raw: boolean;
  /** Offset of `{{` in the text. */
  index: number;
  context: ShellContext;
}

const PLACEHOLDER_AT = /^\{\{\s*(?:(raw)\s*:\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;

type Frame = { kind: 'code'; close: ')' | '`' | null; depth: number } | { kind: 'double' } | { kind: 'arithmetic'; depth: number };

/**
 * Where each placeholder of a shell script stands, read as a POSIX shell reads quoting:
 * quotes, `$( )`, backquotes, `$(( ))`, comments and here-documents. A script the reader does
 * not follow (e.g. a `case` pattern's `)` inside `$( )`) may be reported as quoted; that errs
 * on the side of refusing.
 */
export function placeholderContexts(script: string): PlaceholderUse[] {
  const uses: PlaceholderUse[] = [];
  const stack: Frame[] = [{ kind: 'code', close: null, depth: 0 }];
  const heredocs: Array<{ delimiter: string; strip: boolean }> = [];
  const at = (i: number, context: ShellContext): number => {
    const m = PLACEHOLDER_AT.exec(script.slice(i));
    if (!m) return 0;
    uses.push({ name: m[2]!, raw: m[1] !== undefined, index: i, context });
    return m[0].length;
  };
  // Placeholders in a stretch the shell takes as one quoted or commented string.
  const within = (from: number, to: number, context: ShellContext) => {
    for (let j = from; j < to; j++) {
      const n = at(j, context);
      if (n) j += n - 1;
    }
  };
  let i = 0;
  while (i < script.length) {
    const frame = stack.at(-1)!;
    const c = script[i]!;
    if (c === '\\') {
      at(i + 1, 'after a backslash');
      i += 2;
      continue;
    }
    if (c === '$' && script[i + 1] === '{' && script[i + 2] === '{') {
      const n = at(i + 1, 'after a $');
      if (n) {
        i += 1 + n;
        continue;
      }
    }
    const n = at(i, frame.kind === 'double' ? 'double quotes' : frame.kind === 'arithmetic' ? 'arithmetic' : frame.close === '`' ? 'backquotes' : 'word');
    if (n) {
      i += n;
      continue;
    }
    if (frame.kind === 'double') {
      if (c === '"') stack.pop();
      else if (script.startsWith('$((', i)) {
        stack.push({ kind: 'arithmetic', depth: 0 });
        i += 3;
        continue;
      } else if (script.startsWith('$(', i)) {
        stack.push({ kind: 'code', close: ')', depth: 0 });
        i += 2;
        continue;
      } else if (c === '`') stack.push({ kind: 'code', close: '`', depth: 0 });
      i++;
      continue;
    }
    if (frame.kind === 'arithmetic') {
      if (c === '(') frame.depth++;
      else if (c === ')') {
        if (frame.depth === 0 && script[i + 1] === ')') {
          stack.pop();
          i += 2;
          continue;
        }
        frame.depth--;
      }
      i++;
      continue;
    }
    // Code: the shell reads words here.
    if (c === "'") {
      const end = script.indexOf("'", i + 1);
      const stop = end < 0 ? script.length : end;
      within(i + 1, stop, 'single quotes');
      i = stop + 1;
      continue;
    }
    if (c === '$' && script[i + 1] === "'") {
      let j = i + 2;
      while (j < script.length && script[j] !== "'") j += script[j] === '\\' ? 2 : 1;
      within(i + 2, j, 'single quotes');
      i = j + 1;
      continue;
    }
    if (c === '"') {
      stack.push({ kind: 'double' });
      i++;
      continue;
    }
    if (script.startsWith('$((', i)) {
      stack.push({ kind: 'arithmetic', depth: 0 });
      i += 3;
      continue;
    }
    if (script.startsWith('$(', i)) {
      stack.push({ kind: 'code', close: ')', depth: 0 });
      i += 2;
      continue;
    }
    if (c === '`') {
      if (frame.close === '`') stack.pop();
      else stack.push({ kind: 'code', close: '`', depth: 0 });
      i++;
      continue;
    }
    if (c === '(') frame.depth++;
    if (c === ')') {
      if (frame.depth === 0 && frame.close === ')') {
        stack.pop();
        i++;
        continue;
      }
      frame.depth = Math.max(0, frame.depth - 1);
    }
    if (c === '#' && (i === 0 || /[\s;&|()<>]/.test(script[i - 1]!))) {
      const end = script.indexOf('\n', i);
      const stop = end < 0 ? script.length : end;
      within(i + 1, stop, 'a comment');
      i = stop;
      continue;
    }
    if (c === '<' && script[i + 1] === '<' && script[i + 2] !== '<') {
      const m = /^<<(-?)[ \t]*(?:'([^']*)'|"([^"]*)"|\\?([A-Za-z0-9_]+))/.exec(script.slice(i));
      if (m) {
        heredocs.push({ delimiter: m[2] ?? m[3] ?? m[4]!, strip: m[1] === '-' });
        i += m[0].length;
        continue;
      }
    }
    if (c === '\n' && heredocs.length) {
      let j = i + 1;
      for (const doc of heredocs.splice(0)) {
        while (j < script.length) {
          const end = script.indexOf('\n', j);
          const stop = end < 0 ? script.length : end;
          const line = script.slice(j, stop);
          if ((doc.strip ? line.replace(/^\t+/, '') : line) === doc.delimiter) {
            j = stop + 1;
            break;
          }
          within(j, stop, 'a here-document');
          j = stop + 1;
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  return uses;
}
