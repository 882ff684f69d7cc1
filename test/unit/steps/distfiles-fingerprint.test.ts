// A resume must not see the distfiles step changed because the run itself wrote digests into the
// lock (--pin pins on first use, --record adds what Portage fetched): that would redo the step
// and every step after it. A change of a pinned input still changes it.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanContext, Root } from '../../../src/engine/step-kind.js';
import { createDistfilesKind } from '../../../src/steps/distfiles.js';
import { tempDir } from '../../helpers/env.js';

const integrity = (text: string) => `sha512-${createHash('sha512').update(text).digest('base64')}`;
const source = (text: string, from: string) => ({ size: text.length, integrity: integrity(text), urls: ['https://example.org/x'], kind: 'source', from });

let dir: { path: string; remove: () => void };
beforeEach(() => {
  dir = tempDir('distfiles-fingerprint-');
});
afterEach(() => dir.remove());

describe('the distfiles step fingerprint', () => {
  it('stays the same when a run pins an entry on first use or records a new source, and changes with a pinned input', async () => {
    const lockPath = join(dir.path, 'distfiles.lock');
    const write = (distfiles: Record<string, unknown>) => writeFileSync(lockPath, `${JSON.stringify({ lockfileVersion: 1, distfiles }, null, 2)}\n`);
    const root: Root = { name: 'lb', path: join(dir.path, 'root'), host: false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
    const ctx: PlanContext = { recipeDir: dir.path, params: {}, roots: { lb: root }, root, stepId: 'place-distfiles', preview: false, render: (text) => text };
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: true, pin: true });
    const spec = kind.schema.parse({ dir: '/var/cache/distfiles', files: ['portage.tar.bz2', 'snapshot.sqfs'], all_sources: true });
    const portage = source('portage', 'Manifest of sys-apps/portage');
    const unpinned = { size: null, integrity: null, urls: ['https://example.org/snapshot.sqfs'], kind: 'repo-snapshot' };

    write({ 'portage.tar.bz2': portage, 'snapshot.sqfs': unpinned });
    const first = await kind.plan(spec, ctx);

    // What the run wrote: the snapshot pinned on first use, a source recorded by an emerge step.
    write({
      'portage.tar.bz2': portage,
      'snapshot.sqfs': { ...source('snapshot', 'pinned on first use from https://example.org/snapshot.sqfs on 2026-12-01'), kind: 'repo-snapshot' },
      'autoconf-2.72.tar.xz': source('autoconf', 'recorded during local-deps (autoconf)'),
    });
    const resumed = await kind.plan(spec, ctx);
    expect(resumed.detail).toEqual(first.detail);
    // The recorded source is still placed when the step runs again.
    expect(resumed.distfiles).toEqual(['portage.tar.bz2', 'snapshot.sqfs', 'autoconf-2.72.tar.xz']);

    write({ 'portage.tar.bz2': source('another portage', 'Manifest of sys-apps/portage'), 'snapshot.sqfs': unpinned });
    expect((await kind.plan(spec, ctx)).detail).not.toEqual(first.detail);
  });
});
