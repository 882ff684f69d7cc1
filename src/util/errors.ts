/**
 * Every error a user can cause or meet carries a stable `code`, a message that names the file,
 * line or field involved, and where it helps a `hint` saying what to do. Integrity errors also
 * carry `expected` and `found`, in the manner of cacache.
 */
export interface ErrorDetails {
  hint?: string;
  expected?: unknown;
  found?: unknown;
  /** Process exit code when this error ends the CLI: 2 = bad input (default), 1 = failure. */
  exitCode?: number;
  cause?: unknown;
}

export class BootstrapError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly expected?: unknown;
  readonly found?: unknown;
  readonly exitCode: number;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'BootstrapError';
    this.code = code;
    this.hint = details.hint;
    this.expected = details.expected;
    this.found = details.found;
    this.exitCode = details.exitCode ?? 2;
  }
}

export function isBootstrapError(error: unknown): error is BootstrapError {
  return error instanceof BootstrapError;
}

/** Node's system errors (`ENOENT`, `ENOSPC`, …) carry a string `code`. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
