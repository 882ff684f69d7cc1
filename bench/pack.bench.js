// `bootstrap pack` of a generated tree of about 190 MB in 10,000 files against plain
// `tar --sort=name -cJf` under XZ_OPT=-T0, in pairs A B A B … (bench/lib/paired.js), with the CPU
// time of each side's process tree: xz -T0 keeps both cores busy, so what packing does besides
// (hashing the tarball, the `tar -tv` listing for CONTENTS.gz, the dry run that sizes the tree)
// shows in the wall time about as much as in the CPU time. Every pack must write the same bytes.
// Goal (issue 15): at most 1.02 times plain tar. The tree lives under /var/tmp and is removed after.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, mib, paired, verdict } from './lib/paired.js';
import { prng } from './lib/prng.js';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
// BENCH_PACK_MIB makes the tree smaller (or larger) on a busy machine; the mix stays the same.
const TARGET_BYTES = (Number(process.env.BENCH_PACK_MIB) || 190) * (1 << 20);

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
      const size = 200 + (next() % 8000);
      let text = '';
      while (text.length < size) text += `${WORDS[next() % WORDS.length]}${next() % 9 === 0 ? '\n' : ' '}`;
      data = Buffer.from(text.slice(0, size));
    } else if (kind < 98) {
      const size = 4096 + (next() % (200 << 10));
      data = Buffer.alloc(size);
      for (let i = 0; i < size; i += 16) {
        // Skewed choice: some byte strings are far more common, as in machine code.
        const r = next();
        dictionary[(r & 0xfff) >>> ((r >>> 12) % 8)].copy(data, i);
      }
      for (let i = 0; i < size; i += 64) data[i] = next() & 0xff;
    } else {
      const size = (64 << 10) + (next() % (256 << 10));
      data = Buffer.alloc(size);
      for (let i = 0; i + 4 <= size; i += 4) data.writeUInt32LE(next(), i);
    }
    writeFileSync(join(dir, `f${n}`), data);
    total += data.length;
    n += 1;
  }
  return { files: n, bytes: total };
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
  // Warm the page cache for both sides alike.
  execFileSync('tar', ['--sort=name', '-cf', '/dev/null', '-C', root, '.']);
  execFileSync('sh', ['-c', 'find "$1" -type f -exec cat {} + > /dev/null', '_', root]);

  const plainOut = join(outDir, 'plain.tar.xz');
  const ours = join(outDir, 'stage3-bench.tar.xz');
  const digests = new Set();
  const summary = await paired({
    title: 'pack',
    prepare: async () => {
      rmSync(outDir, { recursive: true, force: true });
      mkdirSync(outDir);
    },
    baseline: {
      label: 'tar --sort=name -cJf (XZ_OPT=-T0)',
      run: () => measure(['tar', '--sort=name', '-cJf', plainOut, '-C', root, '.'], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', XZ_OPT: '-T0' } }),
    },
    candidate: {
      label: 'bootstrap pack',
      run: async () => {
        const result = await measure([process.execPath, cli, 'pack', '--root', root, '--out', ours, '--plain'], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
        digests.add(readFileSync(`${ours}.DIGESTS`, 'utf8'));
        return result;
      },
    },
  });
  if (digests.size !== 1) throw new Error(`bootstrap pack wrote different tarballs from the same tree (${digests.size} different DIGESTS)`);
  console.log('  every bootstrap pack wrote the same bytes (one DIGESTS)');
  const extra = summary.candidate.cpu - summary.baseline.cpu;
  console.log(`  CPU: bootstrap pack ${summary.candidate.cpu.toFixed(1)} s, plain tar ${summary.baseline.cpu.toFixed(1)} s (median): ${extra.toFixed(1)} s more, ${((extra / summary.baseline.cpu) * 100).toFixed(1)} % of plain tar's`);
  verdict(`bootstrap pack ≤ 1.02 × plain tar (median ratio ${summary.ratio.median.toFixed(3)})`, summary.ratio.median <= 1.02);
} finally {
  rmSync(base, { recursive: true, force: true });
}
