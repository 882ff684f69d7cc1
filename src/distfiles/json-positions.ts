/**
 * Line and column of places in a JSON text, which JSON.parse does not give: where a syntax
 * error is, where each key is (to point schema errors at a line), and keys an object repeats
 * (JSON.parse silently keeps the last one, which would hide a duplicated distfile).
 */
export interface TextPosition {
  line: number;
  column: number;
}

function positionAt(text: string, offset: number): TextPosition {
  return positionFinder(text)(offset);
}

/** A lookup of many offsets in one text: line starts are found once, then binary-searched. */
function positionFinder(text: string): (offset: number) => TextPosition {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (starts[mid]! <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: offset - starts[low]! + 1 };
  };
}

/** Position of the syntax error in a text JSON.parse refused. */
export function syntaxErrorPosition(text: string): TextPosition {
  return positionAt(text, firstSyntaxErrorOffset(text));
}

export interface KeyScan {
  /** Path (keys joined by NUL) of every object key to its position. */
  keys: Map<string, TextPosition>;
  duplicates: Array<{ path: string[]; position: TextPosition }>;
}

/** Walks a text that JSON.parse accepted, recording object keys; arrays are indexed. */
export function scanKeys(text: string): KeyScan {
  const at = positionFinder(text);
  const keys = new Map<string, TextPosition>();
  const duplicates: KeyScan['duplicates'] = [];
  type Frame = { array: boolean; path: string[]; seen: Set<string>; index: number };
  const stack: Frame[] = [];
  let pendingKey: string | undefined;
  let i = 0;
  const childPath = (): string[] => {
    const top = stack[stack.length - 1];
    if (!top) return [];
    return top.array ? [...top.path, String(top.index)] : [...top.path, pendingKey ?? ''];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '{' || c === '[') {
      stack.push({ array: c === '[', path: childPath(), seen: new Set(), index: 0 });
      i += 1;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i += 1;
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.array) top.index += 1;
      i += 1;
    } else if (c === '"') {
      const start = i;
      i += 1;
      while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i += 1;
      const top = stack[stack.length - 1];
      let j = i;
      while (/\s/.test(text[j] ?? '')) j += 1;
      if (top && !top.array && text[j] === ':') {
        const key = JSON.parse(text.slice(start, i)) as string;
        const path = [...top.path, key];
        const position = at(start);
        if (top.seen.has(key)) duplicates.push({ path, position });
        top.seen.add(key);
        keys.set(path.join('\0'), position);
        pendingKey = key;
        i = j + 1;
      }
    } else {
      i += 1;
    }
  }
  return { keys, duplicates };
}

/** The position of the deepest known key on `path` (a schema error's path). */
export function positionOfPath(scan: KeyScan, path: ReadonlyArray<PropertyKey>): TextPosition | undefined {
  for (let n = path.length; n > 0; n--) {
    const found = scan.keys.get(path.slice(0, n).map(String).join('\0'));
    if (found) return found;
  }
  return undefined;
}

/**
 * Offset of the first syntax error in a text JSON.parse refused: Node 20's messages do not
 * always carry a position, and a person fixing the lock needs the line.
 */
export function firstSyntaxErrorOffset(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  };
  const literal = (word: string): void => {
    if (!text.startsWith(word, i)) fail();
    i += word.length;
  };
  const string = (): void => {
    if (text[i] !== '"') fail();
    i += 1;
    while (text[i] !== '"') {
      if (i >= text.length || text.charCodeAt(i) < 0x20) fail();
      if (text[i] === '\\') {
        i += 1;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? 'x')) fail();
      }
      i += 1;
    }
    i += 1;
  };
  const number = (): void => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail();
    i += match![0].length;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i += 1;
      space();
      if (text[i] === '}') return void (i += 1);
      for (;;) {
        space();
        string();
        space();
        if (text[i] !== ':') fail();
        i += 1;
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === '}') return void (i += 1);
        else fail();
      }
    } else if (c === '[') {
      i += 1;
      space();
      if (text[i] === ']') return void (i += 1);
      for (;;) {
        value();
        space();
        if (text[i] === ',') i += 1;
        else if (text[i] === ']') return void (i += 1);
        else fail();
      }
    } else if (c === '"') string();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else number();
  };
  try {
    value();
    space();
    if (i < text.length) fail();
  } catch (offset) {
    if (typeof offset === 'number') return Math.min(offset, text.length);
    throw offset;
  }
  return text.length;
}
