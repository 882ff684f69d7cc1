import kleur from 'kleur';
import { errnoCode, isBootstrapError } from '../util/errors.js';

const PATH_ERRORS = new Set(['ENOTDIR', 'EISDIR', 'EEXIST', 'EACCES', 'EPERM', 'EROFS', 'ELOOP', 'ENAMETOOLONG']);

/** Prints an error for a person and returns the exit code it calls for. */
export function reportError(error: unknown): number {
  if (isBootstrapError(error)) {
    process.stderr.write(`${kleur.red('error:')} ${error.message}\n`);
    if (error.expected !== undefined || error.found !== undefined) {
      process.stderr.write(`  expected: ${String(error.expected)}\n  found:    ${String(error.found)}\n`);
    }
    if (error.hint) process.stderr.write(`${kleur.yellow('hint:')} ${error.hint}\n`);
    return error.exitCode;
  }
  const code = errnoCode(error);
  if (code && PATH_ERRORS.has(code) && typeof (error as { path?: unknown }).path === 'string') {
    // A path the host refuses (a file where a folder is expected, no permission, read-only):
    // almost always a path given on the command line, so bad input and no stack.
    process.stderr.write(`${kleur.red('error:')} ${(error as Error).message}\n`);
    process.stderr.write(`${kleur.yellow('hint:')} Check the paths given on the command line (--work, --dest, --out, …): each must be a directory or file bootstrap can use there.\n`);
    return 2;
  }
  // Anything else is a bug in bootstrap, not the user's input: show the stack.
  process.stderr.write(`${kleur.red('internal error:')} ${error instanceof Error ? error.stack : String(error)}\n`);
  return 1;
}
