import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlanContext, Root } from '../../../src/engine/step-kind.js';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { RECORD_LOG, collectRecorded } from '../../../src/distfiles/record.js';
import { createDistfilesKind } from '../../../src/steps/distfiles.js';
import { sriOf, writeTestLock } from '../../helpers/distfiles-lock.js';
import { tempDir } from '../../helpers/env.js';

/**
 * Some files are sources of both live-bootstrap and Gentoo (m4-1.4.19.tar.xz, gzip-1.13.tar.xz,
 * patch-2.7.6.tar.xz …): the lock pins them by live-bootstrap's sha256. A `--record` run that
 * fetches the same file completes that entry instead of failing, and a sealed run then places
 * it for Portage although it belongs to the live-bootstrap group. A different file under that
 * name is still an error. (No chroot needed: the recorder reads the root as a folder.)
 */

const DISTDIR = '/var/cache/distfiles';
let dir: { path: string; remove: () => void };
let rootPath = '';
let lockPath = '';

beforeEach(() => {
  dir = tempDir('record-shared-');
  rootPath = join(dir.path, 'root');
  lockPath = join(dir.path, 'distfiles.lock');
  mkdirSync(join(rootPath, DISTDIR), { recursive: true });
  mkdirSync(join(rootPath, '/var/tmp/bootstrap'), { recursive: true });
});
afterEach(() => dir.remove());

const sha256 = (data: Buffer) => `sha256-${createHash('sha256').update(data).digest('base64')}`;
const lbEntry = (data: Buffer) => ({ size: null, integrity: sha256(data), urls: ['https://mirrors.kernel.org/gnu/m4/m4-1.4.19.tar.xz'], kind: 'source' as const, from: 'live-bootstrap@fcfc7bde:steps/m4-1.4.19/sources', group: 'live-bootstrap' });

function recorded(name: string, data: Buffer, url: string): void {
  writeFileSync(join(rootPath, DISTDIR, name), data);
  writeFileSync(join(rootPath, RECORD_LOG), `${url}\t${name}\n`);
}

describe('recording a file the lock pins by an imported sha256', () => {
  it('adds size, sha512 and blake2b512 to the entry, keeps its group, and a sealed run places it', async () => {
    const data = randomBytes(4000);
    await writeTestLock(lockPath, { 'm4-1.4.19.tar.xz': lbEntry(data) });
    recorded('m4-1.4.19.tar.xz', data, 'https://ftp.gnu.org/gnu/m4/m4-1.4.19.tar.xz');
    expect(await collectRecorded({ rootPath, lockPath, stepId: 'emerge-m4', distdirs: [DISTDIR] })).toEqual(['m4-1.4.19.tar.xz']);
    const entry = (await readLock(lockPath)).distfiles['m4-1.4.19.tar.xz']!;
    expect(entry).toEqual({
      size: data.length,
      integrity: `${sriOf(data)} ${sha256(data)}`,
      urls: ['https://mirrors.kernel.org/gnu/m4/m4-1.4.19.tar.xz', 'https://ftp.gnu.org/gnu/m4/m4-1.4.19.tar.xz'],
      kind: 'source',
      from: 'live-bootstrap@fcfc7bde:steps/m4-1.4.19/sources; recorded during emerge-m4 with the same sha256',
      group: 'live-bootstrap',
    });

    // all_sources: the recorded one is placed, a live-bootstrap-only source is not.
    await writeTestLock(lockPath, { 'm4-1.4.19.tar.xz': entry, 'tcc-0.9.27.tar.bz2': lbEntry(randomBytes(10)) });
    const root: Root = { name: 'lb', path: rootPath, host: false, shell: ['/bin/sh'], prelude: '', preflightPrelude: '', env: {} };
    const kind = createDistfilesKind({ lockPath, storeDir: join(dir.path, 'store'), record: false });
    const context: PlanContext = { recipeDir: dir.path, params: {}, roots: { lb: root }, root, stepId: 'place', preview: true, render: (text) => text };
    const plan = await kind.plan(kind.schema.parse({ dir: DISTDIR, all_sources: true }), context);
    expect(plan.distfiles).toEqual(['m4-1.4.19.tar.xz']);
  });

  it('refuses another file under that name, changing nothing', async () => {
    const data = randomBytes(4000);
    await writeTestLock(lockPath, { 'm4-1.4.19.tar.xz': lbEntry(data) });
    recorded('m4-1.4.19.tar.xz', randomBytes(4000), 'https://ftp.gnu.org/gnu/m4/m4-1.4.19.tar.xz');
    await expect(collectRecorded({ rootPath, lockPath, stepId: 'emerge-m4', distdirs: [DISTDIR] })).rejects.toMatchObject({ code: 'ERECORDMISMATCH' });
    expect((await readLock(lockPath)).distfiles['m4-1.4.19.tar.xz']).toEqual(lbEntry(data));
  });
});
