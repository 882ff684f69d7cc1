import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A file the server may hand out, as it was when it was checked. */
export interface ServedFile {
  /** Absolute path on disk. */
  file: string;
  size: number;
  mtimeMs: number;
  /** A strong validator: a digest of the bytes that were checked. */
  etag: string;
  contentType: string;
}

/** What the server serves: a URL path (`/Packages`, `/app-arch/bzip2/…`) to its file, or why not. */
export type Lookup = (urlPath: string) => Promise<ServedFile | { status: number; message: string } | undefined>;

export interface StaticServer {
  server: Server;
  /** Host and port actually bound (port 0 gives a free one). */
  address: AddressInfo;
  close(): Promise<void>;
}

export type AccessLog = (line: { method: string; path: string; status: number; bytes: number; remote: string }) => void;

/**
 * A read-only HTTP/1.1 file server over node:http: GET and HEAD only, files streamed from disk,
 * one byte range (`Range`, `If-Range`), validators (`ETag`, `Last-Modified`, `If-None-Match`,
 * `If-Modified-Since`). It serves only what `lookup` allows, and only while the file on disk
 * still has the size and time it had when it was checked.
 */
export async function startStaticServer(options: { host: string; port: number; lookup: Lookup; log?: AccessLog }): Promise<StaticServer> {
  const server = createServer((req, res) => {
    handle(req, res, options.lookup).then(
      (bytes) => options.log?.({ method: req.method ?? '', path: req.url ?? '', status: res.statusCode, bytes, remote: req.socket.remoteAddress ?? '' }),
      (error: unknown) => {
        if (!res.headersSent) send(res, 500, `internal error: ${String(error)}\n`);
        else res.destroy();
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    address: server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Serves one request; returns the body bytes sent. */
async function handle(req: IncomingMessage, res: ServerResponse, lookup: Lookup): Promise<number> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'read-only: GET and HEAD only\n');
  }
  let path: string;
  try {
    path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return send(res, 400, 'bad URL\n');
  }
  const found = await lookup(path);
  if (!found) return send(res, 404, 'not found\n');
  if (!('file' in found)) return send(res, found.status, `${found.message}\n`);
  const info = await stat(found.file).catch(() => undefined);
  if (!info || info.size !== found.size || info.mtimeMs !== found.mtimeMs) {
    return send(res, 503, `${path} changed on disk since it was checked; the server checks it again when the index changes\n`);
  }
  const lastModified = new Date(Math.floor(found.mtimeMs / 1000) * 1000).toUTCString();
  res.setHeader('ETag', found.etag);
  res.setHeader('Last-Modified', lastModified);
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Content-Type', found.contentType);
  res.setHeader('Cache-Control', 'no-cache');
  if (notModified(req, found.etag, found.mtimeMs)) {
    res.statusCode = 304;
    res.end();
    return 0;
  }
  const range = wantedRange(req, found, lastModified);
  if (range === 'unsatisfiable') {
    res.setHeader('Content-Range', `bytes */${found.size}`);
    return send(res, 416, 'range not satisfiable\n');
  }
  const [start, end] = range ?? [0, found.size - 1];
  const length = found.size === 0 ? 0 : end - start + 1;
  res.statusCode = range ? 206 : 200;
  if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${found.size}`);
  res.setHeader('Content-Length', length);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return 0;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(found.file, { start, end });
    stream.once('error', reject);
    res.once('close', resolve);
    stream.pipe(res);
  });
  return length;
}

function send(res: ServerResponse, status: number, text: string): number {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
  return Buffer.byteLength(text);
}

/** RFC 9110 13.2.2: If-None-Match wins over If-Modified-Since. */
function notModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const none = req.headers['if-none-match'];
  if (none !== undefined) return none.split(',').some((tag) => tag.trim() === '*' || tag.trim().replace(/^W\//, '') === etag);
  const since = Date.parse(req.headers['if-modified-since'] ?? '');
  return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

/**
 * The one byte range asked for, `[start, end]` inclusive; undefined for the whole file (no
 * Range, an If-Range that no longer matches, or several ranges, which a server may answer in
 * full); 'unsatisfiable' for a range that starts past the end.
 */
function wantedRange(req: IncomingMessage, file: ServedFile, lastModified: string): [number, number] | 'unsatisfiable' | undefined {
  const header = req.headers.range;
  if (!header) return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== file.etag && ifRange !== lastModified) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const size = file.size;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (end < start) return match[2] === '' || start >= size ? 'unsatisfiable' : undefined;
  }
  if (start >= size) return 'unsatisfiable';
  return [start, end];
}
