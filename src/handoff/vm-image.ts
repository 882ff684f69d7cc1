import { availableParallelism } from 'node:os';
import { readdir, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { execa } from 'execa';
import { mountsUnder } from '../host/mountinfo.js';
import { findTool } from '../host/tools.js';
import { catalystSetupBlock } from './commands.js';
import { DEFAULT_STOREDIR } from './defaults.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { tempName } from '../util/temp-name.js';

export interface VmImageOptions {
  /** The bootstrapped root filesystem to copy into the image. */
  root: string;
  /** The raw ext4 image to write. */
  out: string;
  /** Image size, e.g. `50G` (binary units, as fallocate reads them); default `50G` as in the guide. */
  size?: string;
  /** Kernel to boot; default the newest `<root>/boot/vmlinuz-*`. */
  kernel?: string;
  /** Replace an existing `out`. */
  force?: boolean;
  /** qemu `-m`; default `8G`. */
  memory?: string;
  /** qemu `-smp`; default this machine's CPU count. */
  cpus?: number;
  /** Host port forwarded to the VM's SSH port; default 2222. */
  sshPort?: number;
  /** Lines of mkfs output, for a log. */
  onOutput?: (line: string) => void;
}

export interface VmImageResult {
  image: string;
  sizeBytes: number;
  /** The kernel the qemu command boots, when one was found. */
  kernel?: string;
  qemu: string[];
  /** What to do next, for a person: log in, start SSH, run Catalyst. */
  nextSteps: string[];
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `50G`, `512M`, `1T`, plain bytes; `KiB`/`GiB` spellings too. Binary units, like fallocate. */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(text.trim());
  const bytes = m ? Number(m[1]) * UNITS[m[2]!.toUpperCase()]! : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 16 * 1024 ** 2) {
    throw new BootstrapError('EVMIMAGE_SIZE', `--size ${JSON.stringify(text)} is not a size of at least 16M`, {
      expected: 'a number with an optional K, M, G or T suffix, e.g. 50G',
      found: text,
    });
  }
  return bytes;
}

/** The newest `vmlinuz-*` in `<root>/boot`, by version order of the names. */
async function findKernel(root: string): Promise<string | undefined> {
  const names = await readdir(join(root, 'boot')).catch(() => [] as string[]);
  const kernels = names.filter((n) => n.startsWith('vmlinuz-')).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return kernels.length > 0 ? join(root, 'boot', kernels[kernels.length - 1]!) : undefined;
}

/**
 * The guide's qemu line: a raw disk on the default (IDE) controller, so a distribution kernel
 * without an initramfs finds it as /dev/sda, the serial console on the terminal, and the VM's
 * SSH port forwarded to localhost only.
 */
export function qemuCommand(image: string, kernel: string, opts: Pick<VmImageOptions, 'memory' | 'cpus' | 'sshPort'> = {}): string[] {
  return [
    'qemu-system-x86_64',
    '-accel', 'kvm',
    '-cpu', 'host',
    '-m', opts.memory ?? '8G',
    '-smp', String(opts.cpus ?? availableParallelism()),
    '-drive', `file=${image},format=raw`,
    '-kernel', kernel,
    '-append', 'root=/dev/sda rw console=ttyS0',
    '-nographic',
    '-nic', `user,hostfwd=tcp:127.0.0.1:${opts.sshPort ?? 2222}-:22`,
  ];
}

function inside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
}

/**
 * Builds a raw ext4 image of a root filesystem without mounting anything: `fallocate` reserves
 * the whole size up front (so the VM cannot run the host's disk full later), and `mkfs.ext4 -d`
 * copies the tree in, keeping owners, modes, hard links, symbolic links, device nodes and
 * extended attributes. Written under a temporary name, renamed when complete.
 */
export async function buildVmImage(opts: VmImageOptions): Promise<VmImageResult> {
  const sizeBytes = parseSize(opts.size ?? '50G');
  const rootInfo = await stat(opts.root).catch(() => undefined);
  if (!rootInfo?.isDirectory()) {
    throw new BootstrapError('EVMIMAGE_ROOT', `--root ${opts.root} is not a directory`, { hint: 'Pass the bootstrapped root filesystem (the folder with bin/, etc/, usr/).' });
  }
  const root = await realpath(opts.root);
  if (root === '/') {
    throw new BootstrapError('EVMIMAGE_ROOT', '--root / would copy this host into the image', { hint: 'Pass the bootstrapped root filesystem, not the host\'s.' });
  }
  const outDir = await realpath(dirname(resolve(opts.out))).catch(() => undefined);
  if (!outDir) throw new BootstrapError('EVMIMAGE_OUT', `the folder of --out ${opts.out} does not exist`, { hint: 'Create it first, or choose another --out.' });
  const out = join(outDir, basename(opts.out));
  if (inside(out, root)) {
    throw new BootstrapError('EVMIMAGE_OUT', `--out ${out} is inside --root ${root}: the image would copy itself`, { hint: 'Write the image outside the root.' });
  }
  if (!opts.force && (await stat(out).then(() => true, () => false))) {
    throw new BootstrapError('EVMIMAGE_OUT', `${out} already exists`, { hint: 'Pass --force to replace it, or choose another --out.' });
  }
  const mounts = mountsUnder(root).filter((m) => m.mountPoint !== root);
  if (mounts.length > 0) {
    throw new BootstrapError('EVMIMAGE_MOUNTS', `${root} has mounts inside it (${mounts.map((m) => m.mountPoint).join(', ')}); mkfs.ext4 -d would copy /proc, /sys and /dev contents into the image`, {
      hint: 'Unmount them first (bootstrap unmount removes mounts under a target only, deepest first).',
    });
  }
  let kernel: string | undefined;
  if (opts.kernel !== undefined) {
    if (!(await stat(opts.kernel).then((s) => s.isFile(), () => false))) {
      throw new BootstrapError('EVMIMAGE_KERNEL', `--kernel ${opts.kernel} is not a file`, { hint: 'Pass the kernel image, e.g. <root>/boot/vmlinuz-6.12.31-gentoo-dist.' });
    }
    kernel = resolve(opts.kernel);
  } else {
    kernel = await findKernel(root);
  }

  const temp = tempName(out);
  const run = async (tool: string, args: string[]) => {
    const result = await execa(findTool(tool), args, { reject: false, all: true, stdin: 'ignore' });
    for (const line of (result.all ?? '').split('\n').filter(Boolean)) opts.onOutput?.(line);
    if (result.exitCode !== 0) {
      const tooSmall = /could not allocate|no space|not enough space|Could not allocate block/i.test(result.all ?? '');
      throw new BootstrapError('EVMIMAGE_TOOL', `${tool} failed (exit code ${result.exitCode ?? 'none'}): ${(result.all ?? result.shortMessage).trim().split('\n').slice(-5).join(' | ')}`, {
        hint: tooSmall ? 'The root does not fit: pass a larger --size, or free space on the disk holding --out.' : `Run the same ${tool} command by hand to see why.`,
        exitCode: 1,
      });
    }
  };
  try {
    await run('fallocate', ['-l', String(sizeBytes), temp]);
    await run('mkfs.ext4', ['-F', '-q', '-L', 'gentoo', '-E', 'nodiscard', '-d', root, temp]);
    await rename(temp, out);
  } catch (error) {
    await unlink(temp).catch((e: unknown) => {
      if (errnoCode(e) !== 'ENOENT') throw e;
    });
    throw error;
  }

  const shownKernel = kernel ?? join(root, 'boot/vmlinuz-<version>');
  const qemu = qemuCommand(out, shownKernel, opts);
  const port = opts.sshPort ?? 2222;
  const nextSteps = [
    ...(kernel ? [] : [`No kernel in ${join(root, 'boot')}: build one in the root first (USE='-initramfs' emerge sys-kernel/gentoo-kernel), then rebuild the image or pass --kernel.`]),
    'Set a root password in the root before building the image (passwd in the chroot), then boot the image with the qemu command.',
    'On the VM console, as root: echo "PermitRootLogin yes" >> /etc/ssh/sshd_config, then start sshd (/etc/init.d/sshd start, or systemctl start sshd).',
    `From this host: ssh -p ${port} root@127.0.0.1`,
    `In the VM, as root, paste this block (the hand-off's default paths; \`bootstrap handoff\` prints it for its own): it installs Catalyst as the guide does, makes the snapshot, fills @TREEISH@ and runs the four stages:\n${catalystSetupBlock(DEFAULT_STOREDIR, join(DEFAULT_STOREDIR, 'specs'))}`,
  ];
  return { image: out, sizeBytes, kernel, qemu, nextSteps };
}
