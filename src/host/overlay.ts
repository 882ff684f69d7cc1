import { execa } from 'execa';
import { mkdirSync, readlinkSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { constants } from 'node:os';
import { BootstrapError } from '../util/errors.js';
import { mountsUnder, readMounts } from './mountinfo.js';
import { tiedToParent } from './tie-to-parent.js';
import { findTool } from './tools.js';

/**
 * A throwaway overlay of a root: `lower` is never written; what steps write lands in
 * `<dir>/upper`. Only ever mounted in a private mount namespace (see privateMountNamespace), so
 * the kernel removes it with the process even after SIGKILL and no other process sees it.
 */
export async function mountOverlay(lower: string, dir: string): Promise<{ merged: string; unmount: () => Promise<void> }> {
  if (!inPrivateMountNamespace()) throw new Error('mountOverlay outside a private mount namespace');
  const realLower = await realpath(lower).catch(() => {
    throw new BootstrapError('ENOTARGET', `no such directory: ${lower}`, { hint: 'Give the --target directory of live-bootstrap output.' });
  });
  const upper = join(dir, 'upper');
  const work = join(dir, 'overlay-work');
  const merged = join(dir, 'merged');
  for (const path of [realLower, upper, work, merged]) {
    // overlayfs splits its options at commas and lower layers at colons; it has no quoting.
    if (/[,:\\\n]/.test(path)) {
      throw new BootstrapError('EPATH', `${path}: overlayfs cannot take a path with a comma, colon or backslash`, { hint: 'Use a --work and --target without those characters.' });
    }
  }
  for (const path of [upper, work, merged]) mkdirSync(path, { recursive: true });
  const mounted = await execa(findTool('mount'), ['-t', 'overlay', 'overlay', '-o', `lowerdir=${realLower},upperdir=${upper},workdir=${work}`, '--', merged], { reject: false, all: true });
  if (mounted.exitCode !== 0) {
    throw new BootstrapError('EMOUNT', `could not mount an overlay of ${realLower} on ${merged}: ${String(mounted.all).trim()}`, {
      hint: 'A preflight needs overlayfs (modprobe overlay) and a --work on a filesystem that can hold an overlay upper layer (not another overlay or tmpfs without xattrs).',
    });
  }
  return {
    merged,
    async unmount() {
      // merged is under the real path of the work folder, as mountinfo lists it.
      if (!readMounts().some((m) => m.mountPoint === merged)) return;
      const result = await execa(findTool('umount'), ['--', merged], { reject: false, all: true });
      if (result.exitCode !== 0) throw new BootstrapError('EMOUNT', `could not unmount the preflight overlay ${merged}: ${String(result.all).trim()}`);
    },
  };
}

const NAMESPACE_VARIABLE = 'BOOTSTRAP_PARENT_MOUNT_NS';

function mountNamespace(): string {
  return readlinkSync('/proc/self/ns/mnt');
}

/**
 * True in the process rerunInPrivateMountNamespace started: its mount namespace is no longer
 * the one its parent was in (/proc/1 may not be readable, so the parent says which it was).
 */
export function inPrivateMountNamespace(): boolean {
  const parent = process.env[NAMESPACE_VARIABLE];
  return parent !== undefined && parent !== '' && parent !== mountNamespace();
}

/**
 * Runs this same command again in a new private mount namespace (util-linux `unshare`, which
 * then execs node: same process, so signals reach it directly) and resolves with its exit
 * code. Mounts made there are invisible to the host and die with the process.
 */
export async function rerunInPrivateMountNamespace(): Promise<number> {
  // Tied to this process: a SIGKILL of the command the user started takes the preflight with it.
  const [file, args] = tiedToParent(findTool('unshare'), ['--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
  // The SIGTERM relayed below is the child's to finish: it stops its step (allowing the step
  // 10 s before SIGKILL) and records the interruption, so execa must not follow it with its own
  // SIGKILL after 5 s (its default), which ended preflights with 137 under load.
  const child = execa(file, args, { stdio: 'inherit', reject: false, forceKillAfterDelay: false, env: { [NAMESPACE_VARIABLE]: mountNamespace() } });
  // A terminal's Ctrl-C reaches both processes; the child handles it, this one waits.
  const onInt = () => {};
  const onTerm = () => child.kill('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    const result = await child;
    if (result.exitCode !== undefined) return result.exitCode;
    if (result.signal) return 128 + (constants.signals[result.signal] ?? 0);
    process.stderr.write(`${result.message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}

/** The host's side of a preflight: the overlay and the mount check of its folder. */
export const preflightHost = {
  mount: mountOverlay,
  mountsUnder: (dir: string): string[] => mountsUnder(dir).map((m) => m.mountPoint),
};
