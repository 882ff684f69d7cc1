/**
 * How one attempt at one source failed, which decides what the fetcher does next:
 * `retry` the same source after a backoff, move to the `next` source at once, `resume` at once
 * (the body queue overflowed: nothing is wrong with the source), or stop (`local`: the disk,
 * not the network, failed).
 */
export type FailureAction = 'retry' | 'next' | 'resume' | 'local';

export class AttemptFailure extends Error {
  constructor(
    readonly action: FailureAction,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'AttemptFailure';
  }
}

const LOCAL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EFBIG', 'EMFILE', 'ENFILE']);
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ERR_INVALID_URL']);

/** Sorts an error thrown by undici or the file system into a FailureAction. */
export function classifyError(error: unknown): AttemptFailure {
  if (error instanceof AttemptFailure) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && LOCAL_CODES.has(code) && (error as { syscall?: unknown }).syscall !== 'connect') {
    return new AttemptFailure('local', `${code}: ${message}`, { cause: error });
  }
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return new AttemptFailure('next', `unreachable (${code})`, { cause: error });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') return new AttemptFailure('retry', 'stalled: no data within the body timeout', { cause: error });
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new AttemptFailure('retry', 'no response headers within the timeout', { cause: error });
  if (code === 'UND_ERR_MAX_REDIRECTIONS' || /redirect/i.test(message)) return new AttemptFailure('next', message, { cause: error });
  return new AttemptFailure('retry', typeof code === 'string' ? `${message} (${code})` : message, { cause: error });
}
