import kleur from 'kleur';
import { isBootstrapError } from '../util/errors.js';

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
  // Anything else is a bug in bootstrap, not the user's input: show the stack.
  process.stderr.write(`${kleur.red('internal error:')} ${error instanceof Error ? error.stack : String(error)}\n`);
  return 1;
}
