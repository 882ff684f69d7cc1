import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { join, relative } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A file server on 127.0.0.1 that misbehaves on purpose. Each path has a body and a list of
 * behaviours used one per request, the last one repeating: e.g. ['500', 'ok'] answers 500 once
 * and then serves the file.
 */
export type Behaviour =
  | 'ok' // 200, or 206 for a Range request (with ETag and Last-Modified)
  | 'no-range' // always 200 with the whole body, Range ignored
  | 'close-after-body' // like ok with Connection: close; the FIN follows the body 200 ms later
  | 'fin-after-body' // like ok (keep-alive announced), then the server closes 200 ms after the body
  | `status:${number}` // that status, empty body
  | `stall:${number}` // headers and that many body bytes, then silence until the client leaves
  | `drop:${number}` // headers and that many body bytes, then the connection is destroyed
  | `redirect:${string}`; // 302 to that path or URL

export interface LoggedRequest {
  path: string;
  range: string | undefined;
  ifRange: string | undefined;
  behaviour: Behaviour | 'unknown';
}

export interface TestServer {
  url: string;
  requests: LoggedRequest[];
  route(path: string, body: Buffer, behaviours?: Behaviour[]): void;
  close(): Promise<void>;
}

export async function startTestServer(): Promise<TestServer> {
  const routes = new Map<string, { body: Buffer; behaviours: Behaviour[] }>();
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => handle(req, res));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const route = routes.get(path);
    const behaviour: Behaviour | 'unknown' = route ? (route.behaviours.length > 1 ? route.behaviours.shift()! : route.behaviours[0] ?? 'ok') : 'unknown';
    requests.push({ path, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, behaviour });
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const { body } = route;
    const [kind, arg] = splitBehaviour(behaviour as Behaviour);
    if (kind === 'status') {
      res.writeHead(Number(arg)).end();
      return;
    }
    if (kind === 'redirect') {
      res.writeHead(302, { location: arg }).end();
      return;
    }
    const etag = `"${body.length}-${body.subarray(0, 8).toString('hex')}"`;
    const range = kind === 'no-range' ? undefined : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = range && (req.headers['if-range'] === undefined || req.headers['if-range'] === etag) ? Number(range[1]) : 0;
    const headers: Record<string, string | number> = { etag, 'last-modified': new Date(0).toUTCString(), 'content-length': body.length - start };
    if (kind === 'close-after-body') headers.connection = 'close';
    if (kind !== 'no-range') headers['accept-ranges'] = 'bytes';
    if (start > 0) {
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    res.writeHead(start > 0 ? 206 : 200, headers);
    const rest = body.subarray(start);
    if (kind === 'stall' || kind === 'drop') {
      res.write(rest.subarray(0, Number(arg)));
      if (kind === 'drop') setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    if (kind === 'close-after-body') {
      // The pause lets a slow client stop reading before the FIN arrives: the undici 5360 case.
      res.write(rest);
      setTimeout(() => res.end(), 200);
      return;
    }
    if (kind === 'fin-after-body') res.on('finish', () => setTimeout(() => res.socket?.end(), 200));
    res.end(rest);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    route(path, body, behaviours = ['ok']) {
      routes.set(path, { body, behaviours: [...behaviours] });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function splitBehaviour(behaviour: Behaviour): [string, string] {
  const colon = behaviour.indexOf(':');
  return colon === -1 ? [behaviour, ''] : [behaviour.slice(0, colon), behaviour.slice(colon + 1)];
}

/**
 * Serves the git repository `source` (a work tree or a bare repository) at /<name>.git as a
 * static web server serves a repository over git's dumb HTTP: a mirror clone under `scratch`,
 * packed, with the files `git update-server-info` writes. Returns its URL.
 */
export function serveGitRepository(server: TestServer, name: string, source: string, scratch: string): string {
  const bare = join(scratch, `${name}.git`);
  execFileSync('git', ['clone', '--quiet', '--mirror', source, bare], { stdio: 'pipe' });
  execFileSync('git', ['-C', bare, 'repack', '-a', '-d', '--quiet'], { stdio: 'pipe' });
  execFileSync('git', ['-C', bare, 'update-server-info'], { stdio: 'pipe' });
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
  for (const file of walk(bare)) server.route(`/${name}.git/${relative(bare, file)}`, readFileSync(file));
  return `${server.url}/${name}.git`;
}
