import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRoot } from './busybox-root.js';

/** Temporary directories for packing tests live on the disk under /var/tmp: xattrs and device nodes work there. */
export function stageTempDir(prefix = 'bootstrap-stage-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join('/var/tmp', prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * A busybox root plus what a seed must carry faithfully: a character device (1,3), a FIFO, a
 * hard link, a setuid file, a file with `security.capability` (setcap) and one with
 * `user.pax.flags`, files owned by a uid/gid that has no name on the host, a dangling symbolic
 * link, and content under the default excludes. Some mtimes are far in the future and some in
 * the past, to see clamping. Needs root.
 */
export function makeSeedTree(dir: string): void {
  makeBusyboxRoot(dir);
  for (const d of ['usr/local/bin', 'var/lib/misc', 'home/builder', 'var/cache/distfiles', 'var/db/repos/gentoo/sys-apps', 'var/tmp/portage', 'mnt']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  execFileSync('mknod', ['-m', '0666', join(dir, 'dev/null'), 'c', '1', '3']);
  execFileSync('mkfifo', ['-m', '0600', join(dir, 'var/lib/misc/fifo')]);
  linkSync(join(dir, 'bin/busybox'), join(dir, 'usr/bin/busybox-hardlink'));
  writeFileSync(join(dir, 'usr/local/bin/suid-tool'), '#!/bin/sh\necho setuid\n');
  chmodSync(join(dir, 'usr/local/bin/suid-tool'), 0o4755);
  writeFileSync(join(dir, 'usr/local/bin/sgid-tool'), '#!/bin/sh\necho setgid\n');
  chmodSync(join(dir, 'usr/local/bin/sgid-tool'), 0o2711);
  writeFileSync(join(dir, 'usr/local/bin/ping-cap'), '#!/bin/sh\necho ping\n');
  chmodSync(join(dir, 'usr/local/bin/ping-cap'), 0o755);
  execFileSync('setcap', ['cap_net_raw+ep', join(dir, 'usr/local/bin/ping-cap')]);
  writeFileSync(join(dir, 'usr/local/bin/paxmarked'), '#!/bin/sh\necho pax\n');
  execFileSync('setfattr', ['-n', 'user.pax.flags', '-v', 'em', join(dir, 'usr/local/bin/paxmarked')]);
  writeFileSync(join(dir, 'home/builder/notes.txt'), 'owned by a numeric id\n'.repeat(100));
  chownSync(join(dir, 'home/builder/notes.txt'), 4321, 8765);
  chownSync(join(dir, 'home/builder'), 4321, 8765);
  chmodSync(join(dir, 'tmp'), 0o1777);
  symlinkSync('/nonexistent/target', join(dir, 'usr/local/bin/dangling'));
  writeFileSync(join(dir, 'var/cache/distfiles/gcc-13.tar.xz'), 'not really gcc\n');
  writeFileSync(join(dir, 'var/db/repos/gentoo/sys-apps/Manifest'), 'DIST x 1 SHA512 00\n');
  writeFileSync(join(dir, 'var/tmp/portage/build.log'), 'leftover\n');
  writeFileSync(join(dir, 'etc/future'), 'from the future\n');
  utimesSync(join(dir, 'etc/future'), 4_000_000_000, 4_000_000_000);
  writeFileSync(join(dir, 'etc/old'), 'from the past\n');
  utimesSync(join(dir, 'etc/old'), 1_000_000_000, 1_000_000_000);
}

/** Paths under the default excludes that makeSeedTree fills. */
export const EXCLUDED_CONTENT = ['./var/cache/distfiles/gcc-13.tar.xz', './var/db/repos/gentoo', './var/tmp/portage'];
