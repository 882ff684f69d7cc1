import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { AttemptFailure, classifyError } from './errors.js';
import { ByteQueue } from './byte-queue.js';
import { CHUNK_BYTES } from './hash.js';
import { type MinSpeed, SpeedWatch } from './min-speed.js';
import type { PartialFile } from './partial-file.js';

export interface HttpDownload {
  dispatcher: Dispatcher;
  url: string;
  file: PartialFile;
  /** Size the file must have, when the lock knows it: checked against the headers at once. */
  expectedSize: number | null;
  /**
   * ETag or Last-Modified of the response the partial bytes came from, for If-Range; updated
   * as soon as a response arrives, so a failed attempt still leaves it for the next one;
   * `rangeIgnored` once the server answered a Range request with the whole file.
   */
  resumeState: ResumeState;
  /** Whether partial bytes may be resumed without a validator (true when a hash will check them). */
  resumeBlind: boolean;
  /** Past this many bytes waiting for the disk, the request is dropped and resumed later. */
  maxQueuedBytes: number;
  /** What the dispatcher's redirect interceptor was given, for the message when it runs out. */
  maxRedirections: number;
  minSpeed: MinSpeed;
  signal: AbortSignal | undefined;
  onBytes(size: number): void;
}

export interface ResumeState {
  validator?: string;
  rangeIgnored?: boolean;
}

/**
 * Bytes waiting for the disk at which a pausable response is paused, and resumed again. The
 * writer takes batches of 1 MiB, so RESUME_AT must be at least one batch: below it a paused
 * body would wait for bytes that never come. Each MiB here is a MiB per download in flight.
 */
const PAUSE_AT = 3 << 20;
const RESUME_AT = 1 << 20;

/**
 * One GET of `url` into the partial file, resuming from its current size with Range, written
 * in batches of 1 MiB while hashed. Rejects with an AttemptFailure saying what to do next.
 *
 * Backpressure and undici issue 5360: undici 7 throws an AssertionError that nothing can catch
 * (from a socket 'end' or 'close' handler) when the server closes the connection while the
 * HTTP parser is paused, but only on that path's `!parser.shouldKeepAlive` branch: a response
 * that ends with the connection. On a keep-alive response the same close is an ordinary
 * SocketError, which fails the attempt and is resumed. So a response is paused for a slow
 * disk only when it declares `Connection: keep-alive` and a framed body (Content-Length or
 * chunked), which is when llhttp keeps the connection alive, HTTP/1.0 included. Any other
 * response is never paused: its body waits in memory, and past `maxQueuedBytes` the request is
 * dropped and resumed with Range, or, from a server that cannot resume, simply kept in memory.
 */
export async function downloadHttp(job: HttpDownload): Promise<void> {
  const queue = new ByteQueue(job.maxQueuedBytes, CHUNK_BYTES);
  const validator = job.resumeState.validator;
  let controller: Dispatcher.DispatchController | undefined;
  let settled = false;
  const abort = (reason: Error): void => {
    if (!settled) controller?.abort(reason);
  };
  const onAbortSignal = (): void => abort(new AttemptFailure('local', 'interrupted'));
  const speed = new SpeedWatch(job.minSpeed, (reason) => abort(new AttemptFailure('next', reason)));
  /** URLs requested so far, the redirect interceptor's own list (it grows with each hop). */
  let history: readonly URL[] = [];

  const offset = job.file.size;
  const resuming = offset > 0 && (validator !== undefined || job.resumeBlind);
  if (offset > 0 && !resuming) await job.file.restart();
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': 'bootstrap-distfiles' };
  if (resuming) {
    headers.range = `bytes=${offset}-`;
    if (validator) headers['if-range'] = validator;
  }

  let restartFromZero = false;
  let dropPartial = false;
  let resumable = false;
  let pausable = false;
  let paused = false;
  const response = new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => {
      queue.fail(error);
      reject(error);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c, context) {
        controller = c;
        const hops = (context as { history?: unknown } | undefined)?.history;
        if (Array.isArray(hops)) history = hops as URL[];
        if (job.signal?.aborted) c.abort(new AttemptFailure('local', 'interrupted'));
      },
      onResponseStart(c, statusCode, responseHeaders) {
        controller = c;
        try {
          if (statusCode >= 300 && statusCode < 400 && header(responseHeaders, 'location') && history.length > job.maxRedirections) {
            throw new AttemptFailure('next', tooManyRedirects(job, history, header(responseHeaders, 'location')!));
          }
          restartFromZero = checkResponse(statusCode, responseHeaders, resuming ? offset : 0, job.expectedSize, job.url);
          job.resumeState.validator = validatorOf(responseHeaders);
          if (restartFromZero) job.resumeState.rangeIgnored = true;
          resumable = statusCode === 206 || (/\bbytes\b/.test(header(responseHeaders, 'accept-ranges') ?? '') && !job.resumeState.rangeIgnored);
          pausable = keepsConnection(responseHeaders);
          speed.start();
          resolve();
        } catch (error) {
          dropPartial = statusCode === 416;
          c.abort(error as Error);
        }
      },
      onResponseData(c, chunk) {
        speed.received(chunk.length);
        const withinLimit = queue.push(chunk);
        if (pausable) {
          if (queue.bytes >= PAUSE_AT && !paused) {
            paused = true;
            speed.pause();
            c.pause();
          }
        } else if (!withinLimit && resumable) {
          c.abort(new AttemptFailure('resume', `more than ${job.maxQueuedBytes} bytes waiting for the disk; resuming after it catches up`));
        }
      },
      onResponseEnd() {
        settled = true;
        speed.stop();
        queue.end();
      },
      onResponseError(_c, error) {
        settled = true;
        speed.stop();
        fail(error);
      },
    };
    job.dispatcher.dispatch({ origin: new URL(job.url).origin, path: pathOf(job.url), method: 'GET', headers }, handler);
  });

  job.signal?.addEventListener('abort', onAbortSignal, { once: true });
  try {
    await response.catch(async (error: unknown) => {
      if (dropPartial) await job.file.restart();
      if (isRedirectLoop(error)) throw new AttemptFailure('next', redirectLoop(history), { cause: error });
      throw classifyError(error);
    });
    if (restartFromZero) await job.file.restart();
    for (;;) {
      let chunks: Buffer[] | null;
      try {
        chunks = await queue.take();
      } catch (error) {
        throw classifyError(error);
      }
      if (chunks === null) break;
      if (paused && queue.bytes <= RESUME_AT) {
        paused = false;
        speed.start();
        controller?.resume();
      }
      const bytes = chunks.reduce((sum, c) => sum + c.length, 0);
      if (job.expectedSize !== null && job.file.size + bytes > job.expectedSize) {
        const failure = new AttemptFailure('next', `sent more than the ${job.expectedSize} bytes the lock records`);
        abort(failure);
        throw failure;
      }
      try {
        await job.file.append(chunks);
      } catch (error) {
        const failure = classifyError(error);
        abort(failure);
        throw failure.action === 'local' ? failure : new AttemptFailure('local', failure.message, { cause: error });
      }
      job.onBytes(job.file.size);
    }
  } finally {
    speed.stop();
    job.signal?.removeEventListener('abort', onAbortSignal);
  }
}

const REDIRECT_ADVICE = 'see where it leads with `curl -IL URL`, then put the final URL in the lock or give a --mirror that has the file';

/** undici's redirect interceptor found a URL it had already visited (its own text speaks of Client and Pool). */
function isRedirectLoop(error: unknown): boolean {
  return (error as { code?: unknown }).code === 'UND_ERR_INVALID_ARG' && /redirect loop/i.test((error as Error).message);
}

function redirectLoop(history: readonly URL[]): string {
  const hops = history.length - 1;
  return `a redirect loop: after ${hops} redirect${hops === 1 ? '' : 's'} (${[...history.map(String), '…'].join(' → ')}) it points back to a URL already visited; ${REDIRECT_ADVICE}`;
}

function tooManyRedirects(job: HttpDownload, history: readonly URL[], location: string): string {
  const chain = history.length > 4 ? [history[0], '…', ...history.slice(-2)] : history;
  return `still redirecting after ${job.maxRedirections} redirects (${[...chain.map(String), location].join(' → ')}): a redirect loop, or a chain longer than ${job.maxRedirections}; ${REDIRECT_ADVICE}`;
}

/** Whether llhttp will keep the connection after this response (see downloadHttp). */
function keepsConnection(headers: IncomingHttpHeaders): boolean {
  const connection = (header(headers, 'connection') ?? '').toLowerCase();
  const framed = header(headers, 'content-length') !== undefined || /\bchunked\b/i.test(header(headers, 'transfer-encoding') ?? '');
  return /(^|,)\s*keep-alive\s*(,|$)/.test(connection) && framed;
}

/** The request target undici's dispatch() takes with an `origin`: the URL's path and query. */
export function pathOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * Checks the status and headers before any byte is written; returns true when the server
 * answered a Range request with the whole file, so the partial bytes must be dropped.
 */
function checkResponse(status: number, headers: IncomingHttpHeaders, offset: number, expectedSize: number | null, url: string): boolean {
  if (status === 404 || status === 410) throw new AttemptFailure('next', `HTTP ${status}: not found`);
  if (status === 416 && offset > 0) throw new AttemptFailure('retry', 'HTTP 416: the partial file is larger than the file on the server; starting over');
  if (status === 429 || status >= 500) throw new AttemptFailure('retry', `HTTP ${status}`);
  if (status >= 300 && status < 400) throw new AttemptFailure('next', `HTTP ${status}: redirect without a usable Location`);
  if (status !== 200 && status !== 206) throw new AttemptFailure('next', `HTTP ${status}`);
  const encoding = header(headers, 'content-encoding');
  if (encoding && encoding !== 'identity') throw new AttemptFailure('next', `the server sent the file with Content-Encoding ${encoding}`);
  if (status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(headers, 'content-range') ?? '');
    if (!range || Number(range[1]) !== offset) {
      throw new AttemptFailure('retry', `asked ${url} for bytes from ${offset} on, got Content-Range ${header(headers, 'content-range') ?? '(none)'}`);
    }
    checkSize(range[3] === '*' ? undefined : Number(range[3]), expectedSize);
    return false;
  }
  const length = header(headers, 'content-length');
  checkSize(length === undefined ? undefined : Number(length), expectedSize);
  return offset > 0;
}

function checkSize(total: number | undefined, expectedSize: number | null): void {
  if (total !== undefined && expectedSize !== null && total !== expectedSize) {
    throw new AttemptFailure('next', `the server announces ${total} bytes; the lock records ${expectedSize}`);
  }
}

/** A strong ETag, else Last-Modified: what If-Range accepts to resume the same version. */
function validatorOf(headers: IncomingHttpHeaders): string | undefined {
  const etag = header(headers, 'etag');
  if (etag && !etag.startsWith('W/')) return etag;
  return header(headers, 'last-modified');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
