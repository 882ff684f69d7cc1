import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** What a packed tree must keep of each path: type and mode bits, numeric owner, device, link target, size, link count, mtime. */
export interface PathMeta {
  mode: string;
  uid: number;
  gid: number;
  rdev?: string;
  target?: string;
  size?: number;
  nlink?: number;
  mtime: number;
}

/** Every path below `dir` (as `./rel`), with its metadata; `dir` itself is `.`. */
export function snapshotTree(dir: string): Map<string, PathMeta> {
  const out = new Map<string, PathMeta>();
  const visit = (abs: string, rel: string) => {
    const st = lstatSync(abs);
    const meta: PathMeta = { mode: st.mode.toString(8), uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isCharacterDevice() || st.isBlockDevice()) meta.rdev = `${Math.floor(st.rdev / 256)},${st.rdev % 256}`;
    if (st.isSymbolicLink()) meta.target = readlinkSync(abs);
    if (st.isFile()) {
      meta.size = st.size;
      meta.nlink = st.nlink;
    }
    out.set(rel, meta);
    if (st.isDirectory()) {
      for (const name of readdirSync(abs).sort()) visit(join(abs, name), rel === '.' ? `./${name}` : `${rel}/${name}`);
    }
  };
  visit(dir, '.');
  return out;
}
