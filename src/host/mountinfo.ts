import { readFileSync } from 'node:fs';

export interface MountEntry {
  id: number;
  parent: number;
  /** Absolute mount point, with the kernel's octal escapes (`\040`) decoded. */
  mountPoint: string;
  fsType: string;
  source: string;
}

/** Parses /proc/self/mountinfo (see proc(5)); fields after ` - ` are type, source, options. */
export function parseMountinfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [left, right = ''] = line.split(' - ');
      const fields = left!.split(' ');
      const [fsType = '', source = ''] = right.split(' ');
      return {
        id: Number(fields[0]),
        parent: Number(fields[1]),
        mountPoint: unescape(fields[4] ?? ''),
        fsType: unescape(fsType),
        source: unescape(source),
      };
    });
}

export function readMounts(path = '/proc/self/mountinfo'): MountEntry[] {
  return parseMountinfo(readFileSync(path, 'utf8'));
}

/** Mounts at or below `dir` (an absolute, symlink-free path), deepest first. */
export function mountsUnder(dir: string, mounts: MountEntry[] = readMounts()): MountEntry[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return mounts
    .filter((m) => m.mountPoint === dir || m.mountPoint.startsWith(prefix))
    .sort((a, b) => depth(b.mountPoint) - depth(a.mountPoint) || b.id - a.id);
}

function depth(path: string): number {
  return path.split('/').length;
}

function unescape(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}
