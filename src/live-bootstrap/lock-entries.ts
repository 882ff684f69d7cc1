import type { Lock } from '../distfiles/lock-schema.js';
import { BootstrapError } from '../util/errors.js';

/** The lock's group of live-bootstrap entries (docs/live-bootstrap.md). */
export const LIVE_BOOTSTRAP_GROUP = 'live-bootstrap';

/** A source tree pinned by commit: in the store, an uncompressed tar of the tree (`git archive`). */
export interface TreeSnapshot {
  name: string;
  commit: string;
  /** Where the tree goes, relative to live-bootstrap's top ('' for live-bootstrap itself). */
  path: string;
  urls: string[];
}

/** A file pinned by hash: a source rootfs.py reads from distfiles/, or a seed. */
export interface PinnedFile {
  name: string;
  integrity: string;
  kind: 'source' | 'seed';
  urls: string[];
}

export interface LiveBootstrapEntries {
  snapshots: TreeSnapshot[];
  sources: PinnedFile[];
  seeds: PinnedFile[];
}

/** The live-bootstrap group of a lock, snapshots sorted so that a tree comes before the trees nested in it. */
export function liveBootstrapEntries(lock: Lock, lockPath: string): LiveBootstrapEntries {
  const out: LiveBootstrapEntries = { snapshots: [], sources: [], seeds: [] };
  for (const [name, entry] of Object.entries(lock.distfiles)) {
    if (entry.group !== LIVE_BOOTSTRAP_GROUP) continue;
    // The lock's schema has checked git.path (relative, no '.' or '..').
    if (entry.git) out.snapshots.push({ name, commit: entry.git.commit, path: entry.git.path, urls: entry.urls });
    else if (entry.kind === 'source' || entry.kind === 'seed') {
      if (entry.integrity === null) {
        throw new BootstrapError('EUNPINNED', `${lockPath}: ${name}: a live-bootstrap ${entry.kind} has no integrity`, {
          hint: 'live-bootstrap pins every source by sha256; import the lock again with `bootstrap lock import-live-bootstrap`.',
        });
      }
      out[entry.kind === 'seed' ? 'seeds' : 'sources'].push({ name, integrity: entry.integrity, kind: entry.kind, urls: entry.urls });
    }
  }
  out.snapshots.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return out;
}

/** The snapshot of live-bootstrap itself (path ''), or an error saying how to pin it. */
export function topSnapshot(entries: LiveBootstrapEntries, lockPath: string): TreeSnapshot {
  const top = entries.snapshots.find((s) => s.path === '');
  if (!top) {
    throw new BootstrapError('ENOLIVEBOOTSTRAP', `${lockPath} pins no live-bootstrap tree (no entry of group ${LIVE_BOOTSTRAP_GROUP} with git.path "")`, {
      hint: 'Add live-bootstrap, its submodules and its sources with `bootstrap lock import-live-bootstrap DIR` (a checkout of live-bootstrap), or start from an existing live-bootstrap output with --target DIR.',
    });
  }
  return top;
}
