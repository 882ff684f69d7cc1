import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { BootstrapError } from '../util/errors.js';

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Debian packages that provide the host tools bootstrap runs, for the hint when one is missing. */
export const TOOL_PACKAGES: Record<string, string> = {
  unshare: 'util-linux',
  setpriv: 'util-linux',
  flock: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  chroot: 'coreutils',
  env: 'coreutils',
  tar: 'tar',
  xz: 'xz-utils',
  zstd: 'zstd',
  busybox: 'busybox-static',
  unsquashfs: 'squashfs-tools',
  gpgv: 'gpgv',
  bzip2: 'bzip2',
  mkfifo: 'coreutils',
  find: 'findutils',
};

const found = new Map<string, string>();

/** Absolute path of a host tool, looked up in the standard directories (not the caller's PATH). */
export function findTool(name: string): string {
  const cached = found.get(name);
  if (cached) return cached;
  for (const dir of SEARCH) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      found.set(name, path);
      return path;
    } catch {
      // keep looking
    }
  }
  const pkg = TOOL_PACKAGES[name];
  throw new BootstrapError('ENOTOOL', `${name} is not installed on this host`, {
    hint: pkg ? `Install it (Debian: apt-get install ${pkg}); bootstrap doctor checks every tool.` : 'Install it; bootstrap doctor checks every tool.',
  });
}

export function hasTool(name: string): boolean {
  try {
    findTool(name);
    return true;
  } catch {
    return false;
  }
}
