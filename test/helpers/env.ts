import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

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
/**
 * The project's shared folder, beside the checkout (`<projectRoot>/../shared`) or where
 * BOOTSTRAP_SHARED points: data that came from public repositories lives there and is never
 * committed to the project.
 */
const sharedDir = process.env.BOOTSTRAP_SHARED ? resolve(process.env.BOOTSTRAP_SHARED) : resolve(projectRoot, '../shared');
/** Real Gentoo profile files (parent, eapi, packages, packages.build), from the shared folder: see its SOURCE.md. */
export const gentooProfilesRepo = join(sharedDir, 'fixtures/gentoo-profiles');
const hasGentooProfiles = existsSync(join(gentooProfilesRepo, 'profiles'));
/** Why a test that reads the real Gentoo profiles is skipped. */
const gentooProfilesSkipReason = `needs Gentoo's profile files at ${join(gentooProfilesRepo, 'profiles')}, which is missing (the shared folder beside the checkout, or set BOOTSTRAP_SHARED=<shared folder>)`;

/** Tests that read the real Gentoo profiles call this first; without them they skip and say why. */
export function needsGentooProfiles(ctx: { skip: (note?: string) => void }): void {
  if (!hasGentooProfiles) ctx.skip(gentooProfilesSkipReason);
}
