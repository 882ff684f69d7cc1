import type { IncomingHttpHeaders } from 'node:http';
import type { Dispatcher } from 'undici';
import { AttemptFailure, classifyError } from './errors.js';
import { ByteQueue } from './byte-queue.js';
import { CHUNK_BYTES } from './hash.js';
import type { PartialFile } from './partial-file.js';

export interface HttpDownload {
  dispatcher: Dispatcher;
  url: string;
  file: PartialFile;
  /** Size the file must have, when the lock knows it: checked against the headers at once. */
  expectedSize: number | null;
  /**
   * ETag or Last-Modified of the response the partial bytes came from, for If-Range; updated
   * as soon as a response arrives, so a failed attempt still leaves it for the next one.
   */
  resumeState: { validator?: string };
  /** Whether partial bytes may be resumed without a validator (true when a hash will check them). */
  resumeBlind: boolean;
  /** Past this many bytes waiting for the disk, the request is dropped and resumed later. */
  maxQueuedBytes: number;
  signal: AbortSignal | undefined;
  onBytes(size: number): void;
}

/**
 * One GET of `url` into the partial file, resuming from its current size with Range. The
 * response body is taken by a handler that never pauses undici (see ByteQueue) and written in
 * 1 MiB pieces. Rejects with an AttemptFailure saying what to do next.
 */
export async function downloadHttp(job: HttpDownload): Promise<void> {
  const queue = new ByteQueue(job.maxQueuedBytes);
  const validator = job.resumeState.validator;
  let controller: Dispatcher.DispatchController | undefined;
  let settled = false;
  const abort = (reason: Error): void => {
    if (!settled) controller?.abort(reason);
  };
  const onAbortSignal = (): void => abort(new AttemptFailure('local', 'interrupted'));

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
  const response = new Promise<void>((resolve, reject) => {
    const fail = (error: Error): void => {
      queue.fail(error);
      reject(error);
    };
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (job.signal?.aborted) c.abort(new AttemptFailure('local', 'interrupted'));
      },
      onResponseStart(c, statusCode, responseHeaders) {
        try {
          restartFromZero = checkResponse(statusCode, responseHeaders, resuming ? offset : 0, job.expectedSize, job.url);
          job.resumeState.validator = validatorOf(responseHeaders);
          resolve();
        } catch (error) {
          dropPartial = statusCode === 416;
          c.abort(error as Error);
        }
      },
      onResponseData(c, chunk) {
        // Never c.pause(): see ByteQueue. Overflow means the disk is slower than the network.
        if (!queue.push(chunk)) {
          c.abort(new AttemptFailure('resume', `more than ${job.maxQueuedBytes} bytes waiting for the disk; resuming after it catches up`));
        }
      },
      onResponseEnd() {
        settled = true;
        queue.end();
      },
      onResponseError(_c, error) {
        settled = true;
        fail(error);
      },
    };
    job.dispatcher.dispatch({ origin: new URL(job.url).origin, path: pathOf(job.url), method: 'GET', headers }, handler);
  });

  job.signal?.addEventListener('abort', onAbortSignal, { once: true });
  try {
    await response.catch(async (error: unknown) => {
      if (dropPartial) await job.file.restart();
      throw classifyError(error);
    });
    if (restartFromZero) await job.file.restart();
    for (;;) {
      let chunk: Buffer | null;
      try {
        chunk = await queue.take(CHUNK_BYTES);
      } catch (error) {
        throw classifyError(error);
      }
      if (chunk === null) break;
      if (job.expectedSize !== null && job.file.size + chunk.length > job.expectedSize) {
        const failure = new AttemptFailure('next', `sent more than the ${job.expectedSize} bytes the lock records`);
        abort(failure);
        throw failure;
      }
      try {
        await job.file.append(chunk);
      } catch (error) {
        const failure = classifyError(error);
        abort(failure);
        throw failure.action === 'local' ? failure : new AttemptFailure('local', failure.message, { cause: error });
      }
      job.onBytes(job.file.size);
    }
  } finally {
    job.signal?.removeEventListener('abort', onAbortSignal);
  }
}

function pathOf(url: string): string {
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
