// Packs a generated ~200 MB tree with packStage and, in the same run, with plain
// `tar --sort=name -cJf` under XZ_OPT=-T0, and prints the wall-time ratio (goal: within 5 %) and
// the orchestrator's peak RSS while packing. The tree lives under /var/tmp and is removed after.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packStage } from '../dist/stage/pack-stage.js';

const TARGET_BYTES = 200 * (1 << 20);

/** xorshift32: the same tree on every run. */
function prng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const WORDS = 'emerge portage gentoo stage seed catalyst kernel glibc binutils gcc python perl make config ebuild profile package build install use flags keyword mask unmask depend slot'.split(' ');

/** Text-like files (compress well), binary-like ones (compress a little) and random ones (not at all), of mixed sizes. */
function generateTree(root) {
  const next = prng(20250113);
  let total = 0;
  let n = 0;
  while (total < TARGET_BYTES) {
    const dir = join(root, `usr/share/d${n % 40}/s${n % 7}`);
    mkdirSync(dir, { recursive: true });
    const kind = n % 100;
    let size;
    let data;
    if (kind < 85) {
      size = 200 + (next() % 16000);
      let text = '';
      while (text.length < size) text += `${WORDS[next() % WORDS.length]}${next() % 9 === 0 ? '\n' : ' '}`;
      data = Buffer.from(text.slice(0, size));
    } else if (kind < 98) {
      size = 4096 + (next() % (400 << 10));
      data = Buffer.alloc(size);
      for (let i = 0; i < size; i += 4) data.writeUInt32LE((next() & 0x0f0f0f0f) >>> 0, Math.min(i, size - 4));
    } else {
      size = (64 << 10) + (next() % (2 << 20));
      data = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4) data.writeUInt32LE(next(), i);
    }
    writeFileSync(join(dir, `f${n}`), data);
    total += size;
    n += 1;
  }
  return { files: n, bytes: total };
}

function vmHWM() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

const mib = (b) => `${(b / (1 << 20)).toFixed(1)} MiB`;

async function plainTar(root, out) {
  const started = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const child = spawn('tar', ['--sort=name', '-cJf', out, '-C', root, '.'], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', XZ_OPT: '-T0' },
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function ours(root, out) {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const started = process.hrtime.bigint();
  try {
    const result = await packStage({ root, out, exclude: [] });
    return { seconds: Number(process.hrtime.bigint() - started) / 1e9, result, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

const base = mkdtempSync('/var/tmp/bootstrap-bench-pack-');
try {
  const root = join(base, 'root');
  const outDir = join(base, 'out');
  mkdirSync(root);
  mkdirSync(outDir);
  const generated = generateTree(root);
  execFileSync('sync');
  console.log(`tree: ${generated.files} files, ${mib(generated.bytes)} (under ${base})`);
  // Warm the page cache for both runs alike.
  execFileSync('tar', ['--sort=name', '-cf', '/dev/null', '-C', root, '.']);
  execFileSync('sh', ['-c', `cat $(find ${root} -type f) > /dev/null`]);

  const rssBefore = process.memoryUsage().rss;
  const a = await ours(root, join(outDir, 'ours.tar.xz'));
  const plainSeconds = await plainTar(root, join(outDir, 'plain.tar.xz'));
  const ratio = a.seconds / plainSeconds;
  console.log(`packStage:                         ${a.seconds.toFixed(2)} s, ${mib(a.result.size)}, ${a.result.entries} entries (with DIGESTS and CONTENTS.gz)`);
  console.log(`tar --sort=name -cJf (XZ_OPT=-T0): ${plainSeconds.toFixed(2)} s, ${mib(statSync(join(outDir, 'plain.tar.xz')).size)}`);
  console.log(`wall-time ratio packStage / plain tar: ${ratio.toFixed(3)} (goal <= 1.05: ${ratio <= 1.05 ? 'met' : 'NOT met'})`);
  console.log(`orchestrator RSS while packing: peak ${mib(a.peakRss)} sampled every 50 ms (${mib(rssBefore)} before); VmHWM of the process ${mib(vmHWM())}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
