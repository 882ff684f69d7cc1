import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readMounts } from '../../../src/host/mountinfo.js';
import { buildVmImage, parseSize, qemuCommand } from '../../../src/handoff/vm-image.js';
import { makeBusyboxRoot } from '../../helpers/busybox-root.js';
import { needsRoot, needsTool, tempDir } from '../../helpers/env.js';

function debugfs(image: string, request: string): string {
  return execFileSync('debugfs', ['-R', request, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

describe('parseSize()', () => {
  it('reads binary units like fallocate and refuses nonsense', () => {
    expect(parseSize('50G')).toBe(50 * 1024 ** 3);
    expect(parseSize('64M')).toBe(64 * 1024 ** 2);
    expect(parseSize('1TiB')).toBe(1024 ** 4);
    for (const bad of ['', 'big', '-5G', '1K', '10X']) expect(() => parseSize(bad)).toThrow(expect.objectContaining({ code: 'EVMIMAGE_SIZE' }));
  });
});

describe('buildVmImage()', () => {
  let tmp: ReturnType<typeof tempDir>;
  let root: string;
  const mounted: string[] = [];

  beforeEach(() => {
    tmp = tempDir('vm-image-');
    root = join(tmp.path, 'root');
    makeBusyboxRoot(root);
  });
  afterEach(() => {
    // Unmount only what this test mounted, by absolute path, after checking it is a mount.
    const points = new Set(readMounts().map((m) => m.mountPoint));
    for (const point of mounted.splice(0)) if (points.has(point)) execFileSync('umount', [point]);
    tmp.remove();
  });

  it('copies the root into a valid ext4 image of the requested size, keeping metadata', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'mkfs.ext4', 'e2fsprogs');
    needsTool(ctx, 'debugfs', 'e2fsprogs');
    needsTool(ctx, 'setfattr', 'attr');
    needsTool(ctx, 'setcap', 'libcap2-bin');
    execFileSync('mknod', [join(root, 'dev/null'), 'c', '1', '3']);
    chmodSync(join(root, 'dev/null'), 0o666);
    writeFileSync(join(root, 'bin/suid'), 'x');
    chmodSync(join(root, 'bin/suid'), 0o4755);
    writeFileSync(join(root, 'etc/owned'), 'y');
    chownSync(join(root, 'etc/owned'), 1234, 5678);
    linkSync(join(root, 'etc/owned'), join(root, 'etc/owned-link'));
    execFileSync('setfattr', ['-n', 'user.bootstrap', '-v', 'kept', join(root, 'etc/owned')]);
    execFileSync('cp', [join(root, 'bin/busybox'), join(root, 'bin/capped')]);
    execFileSync('setcap', ['cap_net_raw+ep', join(root, 'bin/capped')]);
    mkdirSync(join(root, 'boot'));
    writeFileSync(join(root, 'boot/vmlinuz-6.6.1-gentoo-dist'), 'k1');
    writeFileSync(join(root, 'boot/vmlinuz-6.12.31-gentoo-dist'), 'k2');
    const out = join(tmp.path, 'gentoo.img');

    const result = await buildVmImage({ root, out, size: '64M', cpus: 2 });
    expect(result.image).toBe(out);
    expect(statSync(out).size).toBe(64 * 1024 ** 2);
    execFileSync('e2fsck', ['-fn', out], { stdio: 'ignore' });

    const busybox = debugfs(out, 'stat /bin/busybox');
    expect(busybox).toMatch(new RegExp(`Size: ${statSync(join(root, 'bin/busybox')).size}\\b`));
    expect(debugfs(out, 'ls -l /bin')).toMatch(/120777\s+\(\d+\)\s+0\s+0\s+\d+.*\bsh\b/); // applet links are symlinks
    expect(debugfs(out, 'stat /bin/suid')).toMatch(/Mode:\s+04755/);
    const devnull = debugfs(out, 'stat /dev/null');
    expect(devnull).toMatch(/Type: character special/);
    expect(devnull).toMatch(/Device major\/minor number: 01:03/);
    const owned = debugfs(out, 'stat /etc/owned');
    expect(owned).toMatch(/User:\s+1234\s+Group:\s+5678/);
    expect(owned).toMatch(/Links: 2/);
    expect(debugfs(out, 'ea_list /etc/owned')).toMatch(/user\.bootstrap.*kept/);
    expect(debugfs(out, 'ea_list /bin/capped')).toMatch(/security\.capability \(20\) = 01 00 00 02 00 20 00 00/);

    expect(result.kernel).toBe(join(root, 'boot/vmlinuz-6.12.31-gentoo-dist'));
    expect(result.qemu).toEqual(qemuCommand(out, join(root, 'boot/vmlinuz-6.12.31-gentoo-dist'), { cpus: 2 }));
    expect(result.qemu).toEqual(expect.arrayContaining(['-drive', `file=${out},format=raw`, '-append', 'root=/dev/sda rw console=ttyS0']));
  });

  it('refuses an existing image without force, and replaces it with force', async (ctx) => {
    needsTool(ctx, 'mkfs.ext4', 'e2fsprogs');
    const out = join(tmp.path, 'gentoo.img');
    writeFileSync(out, 'old');
    await expect(buildVmImage({ root, out, size: '32M' })).rejects.toMatchObject({ code: 'EVMIMAGE_OUT' });
    expect(statSync(out).size).toBe(3);
    const result = await buildVmImage({ root, out, size: '32M', force: true });
    expect(statSync(out).size).toBe(32 * 1024 ** 2);
    expect(result.kernel).toBeUndefined();
    expect(result.nextSteps[0]).toMatch(/No kernel/);
  });

  it('refuses an image inside the root, a missing root, and the host root', async () => {
    await expect(buildVmImage({ root, out: join(root, 'img'), size: '32M' })).rejects.toMatchObject({ code: 'EVMIMAGE_OUT' });
    await expect(buildVmImage({ root: join(tmp.path, 'nope'), out: join(tmp.path, 'img'), size: '32M' })).rejects.toMatchObject({ code: 'EVMIMAGE_ROOT' });
    await expect(buildVmImage({ root: '/', out: join(tmp.path, 'img'), size: '32M' })).rejects.toMatchObject({ code: 'EVMIMAGE_ROOT' });
  });

  it('refuses a root with mounts inside it and leaves no file behind', async (ctx) => {
    needsRoot(ctx);
    const proc = join(root, 'proc');
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', proc]);
    mounted.push(proc);
    const out = join(tmp.path, 'gentoo.img');
    await expect(buildVmImage({ root, out, size: '32M' })).rejects.toMatchObject({ code: 'EVMIMAGE_MOUNTS' });
    expect(() => statSync(out)).toThrow();
  });

  it('reports a size too small for the root and leaves no temporary file', async (ctx) => {
    needsTool(ctx, 'mkfs.ext4', 'e2fsprogs');
    writeFileSync(join(root, 'big'), Buffer.alloc(40 * 1024 ** 2, 1));
    const out = join(tmp.path, 'gentoo.img');
    await expect(buildVmImage({ root, out, size: '20M' })).rejects.toMatchObject({ code: 'EVMIMAGE_TOOL' });
    expect(execFileSync('ls', ['-a', tmp.path], { encoding: 'utf8' }).split('\n').filter((n) => n.startsWith('gentoo.img'))).toEqual([]);
  });
});
