import type { LockEntry } from './lock-schema.js';

export interface UnpinnedContext {
  /** The lock the run reads (`--lock`), named in the commands so they change that lock. */
  lockPath: string;
  /** The run's host store of verified distfiles (`--distdir`), so a pinned download is reused. */
  storeDir: string;
}

/**
 * What a sealed run says when a step needs an unpinned entry: one line, naming the entry and
 * the commands that pin it. A repository snapshot has no Gentoo Manifest (Manifests live inside
 * it), so it is pinned either by trust on first use or from a snapshot checked against Gentoo's
 * signature; a source can also take its hashes from its package's Manifest.
 */
export function unpinnedMessage(name: string, entry: Pick<LockEntry, 'kind'>, where: UnpinnedContext): string {
  const lock = `--lock ${where.lockPath}`;
  const tofu = `\`bootstrap fetch --pin --only ${name} ${lock} --dest ${where.storeDir}\` (trust on first use; the lock records where the bytes came from)`;
  if (entry.kind === 'repo-snapshot') {
    return (
      `the repository snapshot ${name} is unpinned in ${where.lockPath} (no Gentoo Manifest covers a snapshot): ` +
      `pin it with ${tofu}, or verify a snapshot against Gentoo's signature, add it with ` +
      `\`bootstrap lock add URL --kind repo-snapshot --from "checked against Gentoo's signature" ${lock} --dest ${where.storeDir}\` and run with --set snapshot=<its name>`
    );
  }
  return (
    `${name} is unpinned in ${where.lockPath}: pin it from its package's Gentoo Manifest with ` +
    `\`bootstrap lock import-manifest MANIFEST ${lock}\`, or with ${tofu}, or run with --record to pin it on first use`
  );
}
