// Fetch + verify on loopback: `bootstrap fetch` (a lock pinned with sha512) against
// `curl -s -o FILE URL && sha512sum FILE`, on 1 file of 512 MiB and on 8 files of 64 MiB (4 at a
// time on both sides), in pairs A B A B … (bench/lib/paired.js). The server is nginx with
// sendfile when it is installed (Debian nginx-light), in its own process on 127.0.0.1, so neither
// side is bounded by the server; without nginx, a node http server streaming 1 MiB reads.
// Goals (issue 15): bootstrap at least 1.5 times as fast as the pipeline (ratio ≤ 0.667), with a
// peak RSS of at most 64 MiB for one file and 96 MiB for eight. It first runs the same command on
// an empty lock, the start-up every fetch pays before its first byte, and prints its time and RSS.
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeLock } from '../dist/distfiles/write-lock.js';
import { MiB, measure, mib, pairCount, paired, verdict } from './lib/paired.js';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
const JOBS = 4;
const fetchCommand = (lock, dest) => [process.execPath, cli, 'fetch', '--lock', lock, '--dest', dest, '--jobs', String(JOBS), '--quiet'];
const cliEnv = { ...process.env, CI: 'true', NO_COLOR: '1' };
const sets = [
  { label: '1 x 512 MiB', files: [['big.bin', 512 * MiB]], maxRss: 64 * MiB },
  { label: '8 x 64 MiB, 4 at a time', files: Array.from({ length: 8 }, (_, i) => [`part-${i}.bin`, 64 * MiB]), maxRss: 96 * MiB },
];

const work = mkdtempSync('/var/tmp/bootstrap-fetch-bench-');
const served = join(work, 'served');
mkdirSync(served);
// nginx's worker runs as an unprivileged user: it must be able to reach the served files.
chmodSync(work, 0o755);
let server;
try {
  // Incompressible bytes without paying for randomBytes of it all: a random pool at shifting offsets.
  const pool = randomBytes(64 * MiB + 4096);
  for (const set of sets) {
    for (const [name, size] of set.files) {
      const fd = openSync(join(served, name), 'w');
      const salt = createHash('sha256').update(name).digest().readUInt32BE(0) % 4096;
      for (let done = 0; done < size; done += 64 * MiB) writeSync(fd, pool, salt, Math.min(64 * MiB, size - done));
      closeSync(fd);
    }
  }
  const port = await freePort();
  server = startServer(port);
  const base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/${sets[0].files[0][0]}`);

  // The floor under both goals: the same command with nothing to fetch (Node, the CLI, undici).
  const emptyLock = join(work, 'empty.lock');
  await writeLock(emptyLock, { lockfileVersion: 1, distfiles: {} });
  const floor = [];
  for (let i = 0; i < pairCount(); i++) floor.push(await measure(fetchCommand(emptyLock, join(work, 'empty-store')), { env: cliEnv }));
  const floorSeconds = floor.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(floor.length / 2)];
  console.log(`bootstrap fetch of an empty lock (start-up, no download): median ${floorSeconds.toFixed(3)} s, peak RSS ${mib(Math.max(...floor.map((r) => r.peakRss)))}`);

  for (const set of sets) {
    const sums = Object.fromEntries(set.files.map(([name]) => [name, spawnSync('sha512sum', [join(served, name)], { encoding: 'utf8' }).stdout.split(/\s+/)[0]]));
    const lockPath = join(work, 'distfiles.lock');
    const distfiles = Object.fromEntries(
      set.files.map(([name, size]) => [name, { size, integrity: `sha512-${Buffer.from(sums[name], 'hex').toString('base64')}`, urls: [`${base}/${name}`], kind: 'source', from: 'benchmark' }]),
    );
    await writeLock(lockPath, { lockfileVersion: 1, distfiles });
    const storeDir = join(work, 'store');
    const curlDir = join(work, 'curl');
    const list = join(work, 'list');
    writeFileSync(list, set.files.map(([name]) => name).join('\n') + '\n');
    const summary = await paired({
      title: `fetch ${set.label}`,
      // Written-back pages of the last run do not land on the next one.
      prepare: async () => {
        rmSync(storeDir, { recursive: true, force: true });
        rmSync(curlDir, { recursive: true, force: true });
        mkdirSync(curlDir);
        execFileSync('sync');
      },
      baseline: {
        label: 'curl + sha512sum',
        run: async () => {
          const result = await measure(['sh', '-c', `xargs -P ${JOBS} -I{} sh -c 'curl -sf -o "$1/{}" "$2/{}" && sha512sum "$1/{}"' _ "$1" "$2" < "$3" > "$1.sums"`, '_', curlDir, base, list]);
          for (const line of readFileSync(`${curlDir}.sums`, 'utf8').trim().split('\n')) {
            const [hex, path] = line.split(/\s+/);
            if (sums[path.split('/').pop()] !== hex) throw new Error(`curl pipeline: wrong digest for ${path}`);
          }
          return result;
        },
      },
      candidate: {
        label: 'bootstrap fetch',
        run: async () => {
          const result = await measure(fetchCommand(lockPath, storeDir), { env: cliEnv });
          const stored = readdirSync(storeDir).filter((f) => !f.startsWith('.'));
          if (stored.length !== set.files.length || stored.some((f) => statSync(join(storeDir, f)).size !== distfiles[f].size)) throw new Error('the fetcher left the wrong files');
          return result;
        },
      },
    });
    verdict(`bootstrap ≥ 1.5 × as fast (median ratio ≤ 0.667; got ${summary.ratio.median.toFixed(3)})`, summary.ratio.median <= 1 / 1.5);
    verdict(`peak RSS ≤ ${set.maxRss / MiB} MiB (got ${(summary.candidate.peakRss / MiB).toFixed(0)} MiB)`, summary.candidate.peakRss <= set.maxRss);
  }
} finally {
  server?.kill();
  rmSync(work, { recursive: true, force: true });
}

function startServer(port) {
  const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (nginx) {
    const conf = join(work, 'nginx.conf');
    writeFileSync(
      conf,
      `worker_processes 1;
daemon off;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path ${work}/nginx-tmp;
  proxy_temp_path ${work}/nginx-tmp;
  fastcgi_temp_path ${work}/nginx-tmp;
  uwsgi_temp_path ${work}/nginx-tmp;
  scgi_temp_path ${work}/nginx-tmp;
  types { }
  default_type application/octet-stream;
  server { listen 127.0.0.1:${port}; root ${served}; }
}
`,
    );
    console.log(`server: ${nginx} (sendfile on, one worker) on 127.0.0.1:${port}`);
    return spawn(nginx, ['-p', work, '-c', conf], { stdio: 'inherit' });
  }
  console.log(`server: nginx not installed (Debian nginx-light); a node http server streaming 1 MiB reads on 127.0.0.1:${port}`);
  const source = `
    import { createServer } from 'node:http';
    import { createReadStream, statSync } from 'node:fs';
    import { join, basename } from 'node:path';
    createServer((req, res) => {
      const path = join(${JSON.stringify(served)}, basename(decodeURIComponent(req.url)));
      let size;
      try { size = statSync(path).size; } catch { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' });
      createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
    }).listen(${port}, '127.0.0.1');
  `;
  return spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: 'inherit' });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForServer(url) {
  for (let i = 0; i < 100; i++) {
    if (spawnSync('curl', ['-sf', '-o', '/dev/null', '-r', '0-0', url]).status === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server did not answer at ${url}`);
}
