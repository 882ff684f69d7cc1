// Packs a generated ~200 MB tree with packStage and, in the same run, with plain
// `tar --sort=name -cJf` under XZ_OPT=-T0, and prints the wall-time ratio (goal: within 5 %) and
// the orchestrator's peak RSS while packing. The tree lives under /var/tmp and is removed after.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packStage } from '../dist/stage/pack-stage.js';

const TARGET_BYTES = 200 * (1 << 20);
const mib = (b) => `${(b / (1 << 20)).toFixed(1)} MiB`;

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

/**
 * Text-like files (compress well), binary-like ones drawn from a small dictionary of byte
 * strings (compress about as much as executables do) and a few random ones (not at all).
 */
function generateTree(root) {
  const next = prng(20250113);
  const dictionary = Array.from({ length: 4096 }, () => {
    const token = Buffer.alloc(16);
    for (let i = 0; i < 16; i += 4) token.writeUInt32LE(next(), i);
    return token;
  });
  let total = 0;
  let n = 0;
  while (total < TARGET_BYTES) {
    const dir = join(root, `usr/share/d${n % 40}/s${n % 7}`);
    mkdirSync(dir, { recursive: true });
    const kind = n % 100;
    let data;
    if (kind < 85) {
      const size = 200 + (next() % 16000);
      let text = '';
      while (text.length < size) text += `${WORDS[next() % WORDS.length]}${next() % 9 === 0 ? '\n' : ' '}`;
      data = Buffer.from(text.slice(0, size));
    } else if (kind < 98) {
      const size = 4096 + (next() % (400 << 10));
      data = Buffer.alloc(size);
      for (let i = 0; i < size; i += 16) {
        // Skewed choice: some byte strings are far more common, as in machine code.
        const r = next();
        dictionary[(r & 0xfff) >>> ((r >>> 12) % 8)].copy(data, i);
      }
      for (let i = 0; i < size; i += 64) data[i] = next() & 0xff;
    } else {
      const size = (64 << 10) + (next() % (448 << 10));
      data = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4) data.writeUInt32LE(next(), i);
    }
    writeFileSync(join(dir, `f${n}`), data);
    total += data.length;
    n += 1;
  }
  return { files: n, bytes: total };
}

/** CPU seconds of this process's waited-for children so far (tar, xz and the listing tar). */
function childCpuSeconds() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  // Fields 16 and 17 of stat(5) (cutime, cstime), counted here from field 3.
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function vmHWM() {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(line.split(/\s+/)[1]) * 1024;
}

async function plainTar(root, out) {
  const cpuBefore = childCpuSeconds();
  const started = process.hrtime.bigint();
  await new Promise((resolve, reject) => {
    const child = spawn('tar', ['--sort=name', '-cJf', out, '-C', root, '.'], {
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', XZ_OPT: '-T0' },
      stdio: 'inherit',
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`tar exited with ${code}`))));
  });
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpu: childCpuSeconds() - cpuBefore };
}

async function ours(root, out) {
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const cpuBefore = childCpuSeconds();
  const ownBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  try {
    const result = await packStage({ root, out, exclude: [] });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const own = process.cpuUsage(ownBefore);
    return { seconds, cpu: childCpuSeconds() - cpuBefore + (own.user + own.system) / 1e6, result, peakRss };
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
  // Plain tar first and packStage second: neither gets a warmer cache than the other.
  const plain = await plainTar(root, join(outDir, 'plain.tar.xz'));
  const a = await ours(root, join(outDir, 'ours.tar.xz'));
  const ratio = a.seconds / plain.seconds;
  console.log(`tar --sort=name -cJf (XZ_OPT=-T0): ${plain.seconds.toFixed(2)} s wall, ${plain.cpu.toFixed(2)} s CPU, ${mib(statSync(join(outDir, 'plain.tar.xz')).size)}`);
  console.log(`packStage:                         ${a.seconds.toFixed(2)} s wall, ${a.cpu.toFixed(2)} s CPU (with this process), ${mib(a.result.size)}, ${a.result.entries} entries, with DIGESTS and CONTENTS.gz`);
  console.log(`wall-time ratio packStage / plain tar: ${ratio.toFixed(3)} (goal <= 1.05: ${ratio <= 1.05 ? 'met' : 'NOT met'})`);
  console.log(`CPU-time ratio (less sensitive to other load on the machine): ${(a.cpu / plain.cpu).toFixed(3)}`);
  console.log(`orchestrator RSS while packing: peak ${mib(a.peakRss)} sampled every 50 ms (${mib(rssBefore)} before); VmHWM of the process ${mib(vmHWM())}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
