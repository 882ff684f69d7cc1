import { execa } from 'execa';
import { realpath } from 'node:fs/promises';
import { BootstrapError } from '../util/errors.js';
import { mountsUnder, readMounts } from './mountinfo.js';
import { findTool } from './tools.js';

export interface UnmountReport {
  target: string;
  unmounted: string[];
  failed: Array<{ path: string; error: string }>;
}

/**
 * Removes the mounts below a target (live-bootstrap leaves proc, sys, dev, dev/shm, tmp),
 * deepest first, each by its absolute path as read from /proc/self/mountinfo: `umount proc`
 * with a relative path can unmount the host's /proc when ./proc is not a mount point.
 */
export async function unmountUnder(target: string, options: { dryRun?: boolean } = {}): Promise<UnmountReport> {
  const real = await realpath(target).catch(() => {
    throw new BootstrapError('ENOTARGET', `no such directory: ${target}`, { hint: 'Give the --target directory whose mounts should be removed.' });
  });
  if (real === '/') {
    throw new BootstrapError('EUNSAFE', `refusing to unmount everything below / (${target} is the host's root)`, {
      hint: 'Give the target directory itself, e.g. live-bootstrap/target.',
    });
  }
  const report: UnmountReport = { target: real, unmounted: [], failed: [] };
  for (const mount of mountsUnder(real).filter((m) => m.mountPoint !== real)) {
    // Check again just before: an earlier unmount may have taken this one with it.
    if (!mountsUnder(real, readMounts()).some((m) => m.id === mount.id)) continue;
    if (!mount.mountPoint.startsWith(`${real}/`)) continue;
    if (options.dryRun) {
      report.unmounted.push(mount.mountPoint);
      continue;
    }
    const result = await execa(findTool('umount'), ['--', mount.mountPoint], { reject: false, all: true });
    if (result.exitCode === 0) report.unmounted.push(mount.mountPoint);
    else report.failed.push({ path: mount.mountPoint, error: String(result.all).trim() });
  }
  return report;
}
