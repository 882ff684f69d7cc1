// `bootstrap pack` of a generated tree of about 190 MB in 10,000 files against plain
// `tar --sort=name -cJf` under XZ_OPT=-T0, in pairs A B A B … (bench/lib/paired.js), with the CPU
// time of each side's process tree: xz -T0 keeps both cores busy, so what packing does besides
// (hashing the tarball, the `tar -tv` listing for CONTENTS.gz, the dry run that sizes the tree)
// shows in the wall time about as much as in the CPU time. Every pack must write the same bytes.
// Goal (issue 15): at most 1.02 times plain tar. It also prints how much longer the tar stream
// is in pack's reproducible format, and with BENCH_PACK_SAME_FORMAT=1 pairs pack with tar run
// in that format and with pack's xz options, which writes the very same bytes without Node.
// The tree lives under /var/tmp and is removed after.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressor, tarCreateArgs } from '../dist/stage/tar-command.js';
import { measure, mib, paired, verdict } from './lib/paired.js';
import { prng } from './lib/prng.js';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
const sha512 = (file) => createHash('sha512').update(readFileSync(file)).digest('hex');
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
  // What each side hands xz: bootstrap pack's pax format adds an extended header to the members
  // that need one (xattrs, long names; every member when the tree has an mtime before 1970),
  // which xz has to compress too.
  const streamSize = (args) => Number(/Total bytes written: (\d+)/.exec(spawnSync('tar', [...args, '--totals', '--file=/dev/null', '-C', root, '.'], { encoding: 'utf8' }).stderr)?.[1]);
  const plainSize = streamSize(['--create', '--sort=name']);
  const oursSize = streamSize(tarCreateArgs({ excludes: [] }));
  console.log(`tar stream: ${mib(plainSize)} from plain tar, ${mib(oursSize)} in bootstrap pack's format (${(((oursSize - plainSize) / plainSize) * 100).toFixed(1)} % more for xz)`);

  const plainOut = join(outDir, 'plain.tar.xz');
  const ours = join(outDir, 'stage3-bench.tar.xz');
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
  const digests = new Set();
  const pack = {
    label: 'bootstrap pack',
    run: async () => {
      const result = await measure([process.execPath, cli, 'pack', '--root', root, '--out', ours, '--plain'], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
      digests.add(sha512(ours));
      return result;
    },
  };
  const against = async (baseline) => {
    const summary = await paired({
      title: `pack against ${baseline.label}`,
      prepare: async () => {
        rmSync(outDir, { recursive: true, force: true });
        mkdirSync(outDir);
      },
      baseline,
      candidate: pack,
    });
    const extra = summary.candidate.cpu - summary.baseline.cpu;
    console.log(`  CPU: bootstrap pack ${summary.candidate.cpu.toFixed(1)} s, ${baseline.label} ${summary.baseline.cpu.toFixed(1)} s (median): ${extra.toFixed(1)} s more, ${((extra / summary.baseline.cpu) * 100).toFixed(1)} % of the baseline's`);
    return summary;
  };
  const summary = await against({
    label: 'tar --sort=name -cJf (XZ_OPT=-T0)',
    run: () => measure(['tar', '--sort=name', '-cJf', plainOut, '-C', root, '.'], { env: { ...env, XZ_OPT: '-T0' } }),
  });
  // BENCH_PACK_SAME_FORMAT=1: also against tar with bootstrap pack's own tar options and xz
  // command, the same bytes made without Node (so what pack adds: the dry run, the listing,
  // hashing, copying the stream, fsync).
  const same = process.env.BENCH_PACK_SAME_FORMAT === '1'
    ? await against({
        label: "tar in pack's format and xz options",
        run: async () => {
          const result = await measure(['tar', ...tarCreateArgs({ excludes: [] }), `--use-compress-program=${['xz', ...compressor('xz').args].join(' ')}`, `--file=${plainOut}`, '-C', root, '.'], { env });
          digests.add(sha512(plainOut));
          return result;
        },
      })
    : undefined;
  if (digests.size !== 1) throw new Error(`bootstrap pack${same ? ' and tar in its format' : ''} wrote different tarballs from the same tree (${digests.size} different sha512)`);
  console.log(`  every bootstrap pack${same ? ' and tar in its format' : ''} wrote the same bytes`);
  verdict(`bootstrap pack ≤ 1.02 × plain tar (median ratio ${summary.ratio.median.toFixed(3)})`, summary.ratio.median <= 1.02);
  if (same) console.log(`  bootstrap pack ÷ tar in its own format: median ratio ${same.ratio.median.toFixed(3)}`);
} finally {
  rmSync(base, { recursive: true, force: true });
}
