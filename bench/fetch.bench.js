// Fetch + verify on loopback: bootstrap's fetcher against `curl -s -o` followed by
// `sha512sum`, on one 1 GiB file and on 64 files of 16 MiB (4 at a time for both), served by a
// plain node http server in its own process. Goal: at least 0.9 times the pipeline's throughput.
// Each side runs ROUNDS times, alternating, and the best time counts: other work on the machine
// slows single runs down at random.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, closeSync, writeSync, rmSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDistfiles } from '../dist/distfiles/ensure.js';
import { writeLock } from '../dist/distfiles/write-lock.js';

const MiB = 1 << 20;
const JOBS = 4;
const ROUNDS = 3;
const sets = [
  { label: '1 x 1 GiB', files: [['big.bin', 1024 * MiB]] },
  { label: '64 x 16 MiB', files: Array.from({ length: 64 }, (_, i) => [`part-${String(i).padStart(2, '0')}.bin`, 16 * MiB]) },
];

const work = mkdtempSync('/var/tmp/bootstrap-fetch-bench-');
const served = join(work, 'served');
mkdirSync(served);
let server;
try {
  // Incompressible bytes without paying for 2 GiB of randomBytes: a random pool at shifting offsets.
  const pool = randomBytes(64 * MiB + 4096);
  for (const set of sets) {
    for (const [name, size] of set.files) {
      const fd = openSync(join(served, name), 'w');
      const salt = createHash('sha256').update(name).digest().readUInt32BE(0) % 4096;
      for (let done = 0; done < size; done += 64 * MiB) writeSync(fd, pool, salt, Math.min(64 * MiB, size - done));
      closeSync(fd);
    }
  }
  server = spawn(process.execPath, ['--input-type=module', '-e', SERVER_SOURCE(served)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const base = `http://127.0.0.1:${port}`;

  for (const set of sets) {
    const bytes = set.files.reduce((sum, [, size]) => sum + size, 0);
    const sums = Object.fromEntries(set.files.map(([name]) => [name, sha512Hex(join(served, name))]));

    const lockPath = join(work, 'distfiles.lock');
    const distfiles = {};
    for (const [name, size] of set.files) {
      distfiles[name] = { size, integrity: `sha512-${Buffer.from(sums[name], 'hex').toString('base64')}`, urls: [`${base}/${name}`], kind: 'source', from: 'benchmark' };
    }
    await writeLock(lockPath, { lockfileVersion: 1, distfiles });
    let curlSeconds = Infinity;
    let oursSeconds = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      curlSeconds = Math.min(curlSeconds, curlPipeline(set, base, sums));
      oursSeconds = Math.min(oursSeconds, await bootstrapFetch(set, lockPath, distfiles));
    }

    const rate = (s) => `${(bytes / MiB / s).toFixed(0)} MiB/s`;
    console.log(`${set.label}: bootstrap fetch ${oursSeconds.toFixed(2)} s (${rate(oursSeconds)}), curl + sha512sum ${curlSeconds.toFixed(2)} s (${rate(curlSeconds)}), ratio ${(curlSeconds / oursSeconds).toFixed(2)} (goal >= 0.9)`);
  }
} finally {
  server?.kill();
  rmSync(work, { recursive: true, force: true });
}

// Baseline: curl into a file, then sha512sum of it, JOBS pipelines at once.
function curlPipeline(set, base, sums) {
  const curlDir = join(work, 'curl');
  mkdirSync(curlDir);
  const list = set.files.map(([name]) => name).join('\n');
  const start = process.hrtime.bigint();
  const pipeline = spawnSync('sh', ['-c', `xargs -P ${JOBS} -I{} sh -c 'curl -s -o "$1/{}" "$2/{}" && sha512sum "$1/{}"' _ "${curlDir}" "${base}"`], { input: list, encoding: 'utf8', maxBuffer: 1 << 24 });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (pipeline.status !== 0) throw new Error(`curl pipeline failed: ${pipeline.stderr}`);
  for (const line of pipeline.stdout.trim().split('\n')) {
    const [hex, path] = line.split(/\s+/);
    if (sums[path.split('/').pop()] !== hex) throw new Error(`curl pipeline: wrong digest for ${path}`);
  }
  rmSync(curlDir, { recursive: true });
  return seconds;
}

// bootstrap: lock pinned with sha512 (what sha512sum checks), fetched and verified.
async function bootstrapFetch(set, lockPath, distfiles) {
  const storeDir = join(work, 'store');
  const start = process.hrtime.bigint();
  await ensureDistfiles({ lockPath, storeDir, names: [], jobs: JOBS });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const stored = readdirSync(storeDir).filter((f) => !f.startsWith('.'));
  if (stored.length !== set.files.length || stored.some((f) => statSync(join(storeDir, f)).size !== distfiles[f].size)) throw new Error('fetcher left the wrong files');
  rmSync(storeDir, { recursive: true });
  return seconds;
}

function sha512Hex(path) {
  const out = spawnSync('sha512sum', [path], { encoding: 'utf8' });
  return out.stdout.split(/\s+/)[0];
}

function SERVER_SOURCE(dir) {
  return `
    import { createServer } from 'node:http';
    import { createReadStream, statSync } from 'node:fs';
    import { join, basename } from 'node:path';
    const server = createServer((req, res) => {
      const path = join(${JSON.stringify(dir)}, basename(decodeURIComponent(req.url)));
      let size;
      try { size = statSync(path).size; } catch { res.writeHead(404).end(); return; }
      res.writeHead(200, { 'content-length': size });
      createReadStream(path, { highWaterMark: 1 << 20 }).pipe(res);
    });
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));
  `;
}
