import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const isRoot = process.getuid?.() === 0;

/** Tests that mount, chroot or unshare call this first; without root they skip and say why. */
export function needsRoot(ctx: { skip: (note?: string) => void }): void {
  if (!isRoot) ctx.skip('needs root for mount, chroot and namespaces (CI runs as root)');
}

export function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Skips with the Debian package to install when a host tool is missing. */
export function needsTool(ctx: { skip: (note?: string) => void }, name: string, debianPackage = name): void {
  if (!hasTool(name)) ctx.skip(`needs ${name} (Debian package ${debianPackage}; .ci/run installs it)`);
}

/** A fresh temporary directory and its removal (the test created it, so it may delete it). */
export function tempDir(prefix = 'bootstrap-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const projectRoot = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
export const cliPath = join(projectRoot, 'bin/bootstrap.js');
/** Real Gentoo profile files (parent, eapi, packages, packages.build), vendored: see its SOURCE.md. */
export const gentooProfilesRepo = join(projectRoot, 'test/fixtures/gentoo-profiles');
