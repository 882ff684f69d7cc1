import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const busyboxPath = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/**
 * Lays out a tiny root filesystem from the host's static busybox: /bin/busybox, one symbolic
 * link per applet (so /bin/sh works), and the usual top-level directories.
 */
export function makeBusyboxRoot(dir: string): void {
  if (!busyboxPath) throw new Error('no static busybox on this host: apt-get install busybox-static');
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var/tmp', 'usr/bin', 'usr/sbin']) {
    mkdirSync(join(dir, d), { recursive: true });
  }
  copyFileSync(busyboxPath, join(dir, 'bin/busybox'));
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    const link = join(dir, 'bin', applet);
    if (!existsSync(link)) symlinkSync('busybox', link);
  }
  writeFileSync(join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\n');
}
