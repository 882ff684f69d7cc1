import { BootstrapError } from '../util/errors.js';

/** `steps/SHA256SUMS.pkgs`: the package tarballs live-bootstrap expects each build to reproduce, file name → sha256 hex. */
export function parsePackageSums(text: string, where: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const match = /^([0-9a-f]{64})\s+\*?(\S+)$/.exec(line.trim());
    if (!match) throw new BootstrapError('EPKGSUMS', `${where}:${i + 1}: expected "<sha256>  <package>.tar.bz2", got ${JSON.stringify(line.trim())}`);
    sums.set(match[2]!, match[1]!);
  }
  return sums;
}

/** `<pkg>_<revision>.tar.bz2`, as live-bootstrap's src_pkg names what it built. */
export const PACKAGE_NAME = /^(.+)_(\d+)\.tar\.bz2$/;
