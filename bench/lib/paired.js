// Paired, interleaved timing of two commands (A B A B …): other work on a shared machine slows
// single runs at random, so each pair is compared with itself and the ratios are summarised.
// Each side runs as its own process tree; its peak RSS is the largest sum of VmRSS over the
// tree (the command and every descendant), sampled every 10 ms from /proc.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

export const MiB = 1 << 20;
export const mib = (bytes) => `${(bytes / MiB).toFixed(0)} MiB`;

/** Pairs from `BENCH_PAIRS` (at least 5), else `fallback`. */
export function pairCount(fallback = 5) {
  return Math.max(5, Number(process.env.BENCH_PAIRS) || fallback);
}

/** Children of a process, all its threads' (Linux ≥ 3.5 with CONFIG_PROC_CHILDREN). */
function childrenOf(pid) {
  const out = [];
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) out.push(...text.split(' ').map(Number));
    } catch {
      // gone
    }
  }
  return out;
}

function rssOf(pid) {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
    return line ? Number(line.split(/\s+/)[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** RSS of `pid` and all its descendants. */
export function treeRss(pid) {
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    total += rssOf(p);
    stack.push(...childrenOf(p));
  }
  return total;
}

/** GNU time(1) reports the CPU time of the whole tree (every descendant it waited for). */
const TIME = '/usr/bin/time';
const timeDir = mkdtempSync(join(tmpdir(), 'bootstrap-bench-time-'));
process.on('exit', () => rmSync(timeDir, { recursive: true, force: true }));
let runs = 0;

/**
 * Runs argv (a command and its arguments) to the end; resolves with its wall time, the peak RSS
 * of its process tree and, where GNU time is installed, the CPU seconds (user + system) of the
 * tree (`cpu: false` leaves time(1) out, for commands of a few milliseconds). Throws when it exits
 * with a status not in `okStatus` (default: 0).
 */
export function measure(argv, { okStatus = [0], cpu = true, ...options } = {}) {
  const cpuFile = cpu && existsSync(TIME) ? join(timeDir, `run-${runs++}`) : undefined;
  const command = cpuFile ? [TIME, '-f', '%U %S', '-o', cpuFile, ...argv] : argv;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command[0], command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], ...options });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let peak = 0;
    // Not counting time(1) itself.
    const rss = () => (cpuFile ? childrenOf(child.pid).reduce((sum, pid) => sum + treeRss(pid), 0) : treeRss(child.pid));
    const sample = () => (peak = Math.max(peak, rss()));
    const timer = setInterval(sample, 10);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(timer);
      if (!okStatus.includes(code)) return reject(new Error(`${argv.join(' ')} exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
      // time(1) adds "Command exited with non-zero status N" before its line.
      const cpu = cpuFile ? readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1).split(' ').reduce((sum, s) => sum + Number(s), 0) : NaN;
      resolve({ seconds, peakRss: peak, cpu });
    });
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * `pairs` rounds of baseline then candidate (each `{ label, run: () => Promise<{seconds, peakRss}> }`,
 * with `before` to clean up between runs). Returns the per-pair ratios candidate ÷ baseline and
 * the medians; prints one line per pair as it goes.
 */
export async function paired({ title, baseline, candidate, pairs = pairCount(), prepare = async () => {} }) {
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const rows = [];
  console.log(`${title}: ${pairs} pairs, baseline first in each pair; load average ${load}`);
  for (let i = 0; i < pairs; i++) {
    await prepare();
    const a = await baseline.run();
    await prepare();
    const b = await candidate.run();
    rows.push({ a, b, ratio: b.seconds / a.seconds });
    const side = (r) => `${r.seconds.toFixed(3)} s (${Number.isNaN(r.cpu) ? '' : `CPU ${r.cpu.toFixed(2)} s, `}${mib(r.peakRss)})`;
    console.log(`  pair ${i + 1}: ${baseline.label} ${side(a)}, ${candidate.label} ${side(b)}, ratio ${(b.seconds / a.seconds).toFixed(3)}`);
  }
  const ratios = rows.map((r) => r.ratio);
  const summary = {
    title,
    date: new Date().toISOString().slice(0, 16).replace('T', ' '),
    loadBefore: load,
    loadAfter: loadavg().map((l) => l.toFixed(2)).join(' '),
    pairs,
    baseline: { label: baseline.label, median: median(rows.map((r) => r.a.seconds)), cpu: median(rows.map((r) => r.a.cpu)), peakRss: Math.max(...rows.map((r) => r.a.peakRss)) },
    candidate: { label: candidate.label, median: median(rows.map((r) => r.b.seconds)), cpu: median(rows.map((r) => r.b.cpu)), peakRss: Math.max(...rows.map((r) => r.b.peakRss)) },
    ratio: { min: Math.min(...ratios), median: median(ratios), max: Math.max(...ratios) },
  };
  console.log(
    `  => ${candidate.label} median ${summary.candidate.median.toFixed(3)} s${cpuText(summary.candidate.cpu)}, peak RSS ${mib(summary.candidate.peakRss)}; ${baseline.label} median ${summary.baseline.median.toFixed(3)} s${cpuText(summary.baseline.cpu)}, peak RSS ${mib(summary.baseline.peakRss)}; ` +
      `ratio ${candidate.label} ÷ ${baseline.label} min ${summary.ratio.min.toFixed(3)} median ${summary.ratio.median.toFixed(3)} max ${summary.ratio.max.toFixed(3)}; load average after ${summary.loadAfter}`,
  );
  return summary;
}

const cpuText = (cpu) => (Number.isNaN(cpu) ? '' : ` (CPU ${cpu.toFixed(2)} s)`);

/** Prints `what`: met / NOT met. */
export function verdict(what, met) {
  console.log(`  goal ${what}: ${met ? 'met' : 'NOT met'}`);
}
