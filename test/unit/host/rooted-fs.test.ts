import { mkdirSync, readFileSync, symlinkSync, writeFileSync, existsSync, statSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirInRoot, removeStaleTempsInRoot, resolveInRoot, writeFileInRoot } from '../../../src/host/rooted-fs.js';
import { tempDir } from '../../helpers/env.js';

describe('rooted file writes', () => {
  let dir: { path: string; remove: () => void };
  let root: string;
  let outside: string;
  beforeEach(() => {
    dir = tempDir();
    root = join(dir.path, 'root');
    outside = join(dir.path, 'outside');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(outside);
  });
  afterEach(() => dir.remove());

  it('resolves an absolute link inside the root, never to the host', async () => {
    // etc/portage -> <outside> as an absolute host path must land at <root><outside>.
    symlinkSync(outside, join(root, 'etc/portage'));
    await writeFileInRoot(root, '/etc/portage/make.conf', 'X=1\n');
    expect(existsSync(join(outside, 'make.conf'))).toBe(false);
    expect(readFileSync(join(root, outside, 'make.conf'), 'utf8')).toBe('X=1\n');
  });

  it('clamps .. at the root, like a chroot', async () => {
    symlinkSync('../../../../outside', join(root, 'etc/up'));
    const resolved = await resolveInRoot(root, '/etc/up/file');
    expect(resolved).toBe(join(root, 'outside/file'));
    await writeFileInRoot(root, '/../../outside/evil', 'no');
    expect(existsSync(join(outside, 'evil'))).toBe(false);
    expect(existsSync(join(root, 'outside/evil'))).toBe(true);
  });

  it('writes through a link in the last component, inside the root', async () => {
    writeFileSync(join(root, 'etc/real'), 'old');
    symlinkSync('/etc/real', join(root, 'etc/alias'));
    await writeFileInRoot(root, 'etc/alias', 'new', { mode: 0o600 });
    expect(readFileSync(join(root, 'etc/real'), 'utf8')).toBe('new');
    expect(readlinkSync(join(root, 'etc/alias'))).toBe('/etc/real');
    expect(statSync(join(root, 'etc/real')).mode & 0o777).toBe(0o600);
  });

  it('creates parents through links and reports loops', async () => {
    symlinkSync('/var/lib', join(root, 'etc/lib'));
    const created = await mkdirInRoot(root, '/etc/lib/portage/world');
    expect(created).toBe(join(root, 'var/lib/portage/world'));
    symlinkSync('loop2', join(root, 'etc/loop1'));
    symlinkSync('loop1', join(root, 'etc/loop2'));
    await expect(resolveInRoot(root, '/etc/loop1/x')).rejects.toMatchObject({ code: 'ELOOP' });
  });

  it('refuses to make a directory where a file stands', async () => {
    writeFileSync(join(root, 'etc/file'), '');
    await expect(mkdirInRoot(root, '/etc/file/sub')).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('removeStaleTempsInRoot', () => {
  it("removes a dead writer's temporary file of the step's own files only, not another program's look-alike", async () => {
    const dir = tempDir('rooted-temps-');
    try {
      mkdirSync(join(dir.path, 'etc'), { recursive: true });
      const mine = join(dir.path, 'etc/.motd.99999999.0123456789ab.tmp');
      const other = join(dir.path, 'etc/.hosts.99999999.0123456789ab.tmp');
      writeFileSync(mine, 'partial');
      writeFileSync(other, 'not ours');
      expect(await removeStaleTempsInRoot(dir.path, ['/etc/motd'])).toEqual([mine]);
      expect(existsSync(mine)).toBe(false);
      expect(readFileSync(other, 'utf8')).toBe('not ours');
    } finally {
      dir.remove();
    }
  });
});
