import { readFile } from 'node:fs/promises';
import type { ZodError } from 'zod';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { type KeyScan, positionOfPath, scanKeys, syntaxErrorPosition } from './json-positions.js';
import { LOCKFILE_VERSION, type Lock, lockSchema } from './lock-schema.js';

export async function readLock(path: string): Promise<Lock> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new BootstrapError('ELOCKMISSING', `${path}: no such lock file`, {
        hint: 'Give the lock with --lock FILE, or create entries with `bootstrap lock add URL`.',
      });
    }
    throw error;
  }
  return parseLock(text, path);
}

/** Parses and validates lock text; every error names `where` with line and column. */
export function parseLock(text: string, where: string): Lock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const position = syntaxErrorPosition(text);
    const reason = (error as Error).message.split('\n')[0];
    throw new BootstrapError('ELOCKSYNTAX', `${where}:${position.line}:${position.column}: not valid JSON (${reason})`, {
      hint: 'Fix the JSON at that line and column; the lock is written by `bootstrap` with 2-space indentation.',
    });
  }
  const scan = scanKeys(text);
  const duplicate = scan.duplicates[0];
  if (duplicate) {
    const inDistfiles = duplicate.path.length === 2 && duplicate.path[0] === 'distfiles';
    throw new BootstrapError(
      'ELOCKDUPLICATE',
      `${where}:${duplicate.position.line}:${duplicate.position.column}: ${inDistfiles ? `distfile "${duplicate.path[1]}" is listed twice` : `key "${duplicate.path.join('.')}" appears twice`}`,
      { hint: 'Keep one entry per name: JSON keeps only the last, which would hide the first.' },
    );
  }
  const version = (data as { lockfileVersion?: unknown } | null)?.lockfileVersion;
  if (data !== null && typeof data === 'object' && version !== LOCKFILE_VERSION) {
    const position = positionOfPath(scan, ['lockfileVersion']);
    throw new BootstrapError(
      'ELOCKVERSION',
      `${where}${position ? `:${position.line}:${position.column}` : ''}: lockfileVersion ${JSON.stringify(version)} is not supported`,
      { expected: LOCKFILE_VERSION, found: version, hint: 'This bootstrap reads lockfileVersion 1; a newer lock needs a newer bootstrap.' },
    );
  }
  const result = lockSchema.safeParse(data);
  if (!result.success) throw schemaError(result.error, scan, where);
  return result.data;
}

function schemaError(error: ZodError, scan: KeyScan, where: string): BootstrapError {
  const lines = error.issues.map((issue) => {
    const position = positionOfPath(scan, issue.path);
    const at = position ? `${where}:${position.line}:${position.column}` : where;
    // A bad record key arrives as one issue wrapping the key's own issues.
    const nested = issue.code === 'invalid_key' ? issue.issues.map((i) => i.message).join('; ') : undefined;
    return `${at}: ${describePath(issue.path)}: ${nested ?? issue.message}`;
  });
  return new BootstrapError('ELOCKSCHEMA', lines.join('\n'), {
    hint: 'See docs/lock-format.md for every field of distfiles.lock.',
  });
}

function describePath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return 'the lock';
  return path
    .map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 1 && path[0] === 'distfiles' ? `["${String(part)}"]` : i === 0 ? String(part) : `.${String(part)}`))
    .join('');
}
