import { execa } from 'execa';
import { readFileSync, statfsSync, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { RecipeFile } from '../engine/recipe/schema.js';
import { startingPointMissing } from '../engine/starting-point.js';
import { mountsUnder } from './mountinfo.js';
import { findTool, TOOL_PACKAGES } from './tools.js';

export type CheckLevel = 'pass' | 'warn' | 'fail';

export interface Check {
  name: string;
  level: CheckLevel;
  detail: string;
  /** How to fix it, when it is not a pass. */
  fix?: string;
}

export interface DoctorOptions {
  work: string;
  target?: string;
  /** Free space the work directory should have, in GiB. */
  minFreeGiB: number;
  /** The recipe the target is for: its starting_point names a file the target must have. */
  recipe?: Pick<RecipeFile, 'starting_point'>;
}

const REQUIRED_TOOLS = ['unshare', 'setpriv', 'chroot', 'env', 'umount', 'tar', 'xz'];
/** Tools only some runs need: a missing one is a warning saying which. */
const OPTIONAL_TOOLS: Record<string, string> = {
  zstd: 'zstd-compressed stages',
  unsquashfs: 'auditing .sqfs snapshots',
  busybox: 'the demo recipe',
  gpgv: 'lock entries pinned by signature, as the shipped Gentoo snapshot is: a default gentoo-2025 run',
};

/** Host checks before a run: privileges, tools, namespaces, filesystems, disk, target mounts. */
export async function runDoctor(options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const isRoot = process.getuid?.() === 0;
  checks.push(
    isRoot
      ? { name: 'root', level: 'pass', detail: 'running as root' }
      : { name: 'root', level: 'fail', detail: 'not running as root: chroot steps need mount, chroot and namespaces', fix: 'Run bootstrap run/resume with sudo (plan, status and audit need no root).' },
  );
  for (const tool of [...REQUIRED_TOOLS, ...Object.keys(OPTIONAL_TOOLS)]) {
    const neededFor = OPTIONAL_TOOLS[tool];
    try {
      const path = findTool(tool);
      checks.push({ name: `tool ${tool}`, level: 'pass', detail: path });
    } catch {
      checks.push({
        name: `tool ${tool}`,
        level: neededFor ? 'warn' : 'fail',
        detail: `${tool} not found${neededFor ? ` (needed for ${neededFor})` : ''}`,
        fix: `apt-get install ${TOOL_PACKAGES[tool] ?? tool}`,
      });
    }
  }
  checks.push(await gnuTar());
  checks.push(await flockNoFork());
  checks.push(filesystems());
  if (isRoot) checks.push(await namespaces());
  checks.push(freeSpace(options.work, options.minFreeGiB));
  if (options.target) checks.push(...targetChecks(options.target, options.recipe));
  return checks;
}

async function gnuTar(): Promise<Check> {
  const result = await execa('tar', ['--version'], { reject: false }).catch(() => undefined);
  const first = String(result?.stdout ?? '').split('\n')[0] ?? '';
  return first.includes('GNU tar')
    ? { name: 'GNU tar', level: 'pass', detail: first }
    : { name: 'GNU tar', level: 'fail', detail: `tar is not GNU tar (${first || 'not found'}): packing needs --sort, --xattrs and --clamp-mtime`, fix: 'apt-get install tar' };
}

/** The work lock (engine/work-lock.ts) runs `flock --no-fork`; older util-linux lacks it. */
async function flockNoFork(): Promise<Check> {
  let path: string;
  try {
    path = findTool('flock');
  } catch {
    return { name: 'work lock', level: 'fail', detail: 'flock not found: run and resume lock their work directory with it', fix: `apt-get install ${TOOL_PACKAGES.flock}` };
  }
  const result = await execa(path, ['--help'], { reject: false }).catch(() => undefined);
  return String(result?.stdout ?? '').includes('--no-fork')
    ? { name: 'work lock', level: 'pass', detail: `${path} has --no-fork` }
    : {
        name: 'work lock',
        level: 'fail',
        detail: `${path} has no --no-fork option: run and resume would stop with "cannot lock"`,
        fix: 'Install a newer util-linux (Debian 12 and later have flock --no-fork).',
      };
}

function filesystems(): Check {
  const known = new Set(readFileSync('/proc/filesystems', 'utf8').split('\n').map((l) => l.trim().split(/\s+/).pop()));
  const missing = ['proc', 'sysfs', 'tmpfs', 'devpts'].filter((fs) => !known.has(fs));
  return missing.length === 0
    ? { name: 'kernel filesystems', level: 'pass', detail: 'proc, sysfs, tmpfs and devpts are supported' }
    : { name: 'kernel filesystems', level: 'fail', detail: `the kernel lacks ${missing.join(', ')}`, fix: 'Use a kernel with these filesystems (or load their modules).' };
}

async function namespaces(): Promise<Check> {
  try {
    const result = await execa(findTool('unshare'), ['--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--', 'true'], { reject: false, all: true });
    return result.exitCode === 0
      ? { name: 'namespaces', level: 'pass', detail: 'new mount and pid namespaces can be created' }
      : { name: 'namespaces', level: 'fail', detail: `unshare failed: ${String(result.all).trim()}`, fix: 'Run on a host (or VM) that allows mount and pid namespaces; containers often do not.' };
  } catch (error) {
    return { name: 'namespaces', level: 'fail', detail: String(error), fix: 'Install util-linux.' };
  }
}

function freeSpace(work: string, minFreeGiB: number): Check {
  let dir = resolve(work);
  while (!existsSync(dir)) dir = dirname(dir);
  const stats = statfsSync(dir);
  const freeGiB = (stats.bavail * stats.bsize) / 2 ** 30;
  const detail = `${freeGiB.toFixed(1)} GiB free at ${dir} (for work directory ${work})`;
  if (freeGiB >= minFreeGiB) return { name: 'disk space', level: 'pass', detail };
  return { name: 'disk space', level: freeGiB < 1 ? 'fail' : 'warn', detail: `${detail}; want ${minFreeGiB} GiB`, fix: 'Free space or choose another --work directory.' };
}

function targetChecks(target: string, recipe?: Pick<RecipeFile, 'starting_point'>): Check[] {
  const path = resolve(target);
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
    return [{ name: 'target', level: 'fail', detail: `${path} is not a directory`, fix: 'Give the live-bootstrap target directory with --target.' }];
  }
  const mounts = mountsUnder(path).filter((m) => m.mountPoint !== path);
  const missing = recipe ? startingPointMissing(recipe, path) : undefined;
  return [
    missing
      ? { name: 'target', level: 'fail', detail: missing, fix: `Give the ${recipe!.starting_point!.name} output folder with --target${recipe!.starting_point!.note ? ` (${recipe!.starting_point!.note})` : ''}.` }
      : { name: 'target', level: 'pass', detail: `${path}${recipe?.starting_point?.file ? ` (has ${recipe.starting_point.file})` : ''}` },
    mounts.length === 0
      ? { name: 'target mounts', level: 'pass', detail: 'no mounts below the target' }
      : {
          name: 'target mounts',
          level: 'warn',
          detail: `mounts below the target (live-bootstrap leaves these): ${mounts.map((m) => `${m.mountPoint} (${m.fsType})`).join(', ')}`,
          fix: `bootstrap unmount --target ${path}`,
        },
  ];
}
