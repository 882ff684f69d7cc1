import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hexDigestToBase64 } from '../../../src/distfiles/integrity.js';
import { readLock } from '../../../src/distfiles/read-lock.js';
import { serializeLock } from '../../../src/distfiles/write-lock.js';
import { parseManifestDist } from '../../../src/portage/manifest.js';
import { projectRoot } from '../../helpers/env.js';

const SHA512 = '10e8a4b1e2327e062aef4f85860e76ebcd7a29e4c19e152ff7edec4a38316982b5bcfde4ab69da6bcb931258d264c2b6cb40cb5f635f9e6f6eba1ed5976267cb';
const BLAKE2B = '05e38681de219413573e8b1a7f36d2f7e87734f68a929ecdeb5ae6017076fbfd67b897448980e047689ef4b154d2dcd1a90162367a6a5babab45f1ef36f09325';
// Gentoo's sys-apps/portage Manifest, DIST portage-3.0.66.1.tar.bz2 (../shared/real/DIST).
const PORTAGE_SHA512 = 'fcd3d4d3dcfdb67cbcdb0f4854860f073b4a9d41dadc97a3e6f890e3c75091aceec5622e97495741622b5c390309f05dec35b9e951d7ee7a78e28a9b3ed2939d';
const PORTAGE_BLAKE2B = '8dbd1bc17c1a9a3530425efa31a27efba39e1ef5f5457b4084875c64f7128453139aea447c25a642c124438e88ef484a43b1838cbd8c03748017571dd18f9921';

describe('Manifest DIST lines', () => {
  it('reads DIST lines and skips the others', () => {
    const text = `EBUILD x-1.ebuild 10 SHA512 ${'00'.repeat(64)}\nDIST squashfs-tools-4.6.1.tar.gz 286848 BLAKE2B ${BLAKE2B} SHA512 ${SHA512}\n\n`;
    expect(parseManifestDist(text, 'Manifest')).toEqual([
      { name: 'squashfs-tools-4.6.1.tar.gz', size: 286848, hashes: { BLAKE2B, SHA512 }, line: 2 },
    ]);
  });

  it.each([
    ['DIST a.tar', 'Manifest:1: DIST line without a file name and size'],
    ['DIST a.tar 12x SHA512 00', 'size "12x" of a.tar is not a number'],
    ['DIST a.tar 12 SHA512', 'hashes must come as <HASH> <hex> pairs'],
    ['DIST a.tar 12 SHA512 zz', 'SHA512 value is not hex'],
    ['DIST a.tar 1 SHA512 00\nDIST a.tar 1 SHA512 00', 'Manifest:2: a.tar is already listed on line 1'],
  ])('refuses %j', (text, message) => {
    expect(() => parseManifestDist(text, 'Manifest')).toThrow(message);
  });
});

describe("the project's distfiles.lock", () => {
  it('is valid, written in canonical form, and pins squashfs-tools and Portage from their Gentoo Manifests', async () => {
    const path = join(projectRoot, 'distfiles.lock');
    const lock = await readLock(path);
    expect(serializeLock(lock)).toBe(readFileSync(path, 'utf8'));
    expect(lock.distfiles['squashfs-tools-4.6.1.tar.gz']).toEqual({
      size: 286848,
      integrity: `sha512-${hexDigestToBase64('sha512', SHA512)} blake2b512-${hexDigestToBase64('blake2b512', BLAKE2B)}`,
      urls: ['https://github.com/plougher/squashfs-tools/archive/4.6.1.tar.gz'],
      kind: 'source',
      from: 'gentoo Manifest sys-fs/squashfs-tools',
    });
    expect(lock.distfiles['portage-3.0.66.1.tar.bz2']).toEqual({
      size: 1198196,
      integrity: `sha512-${hexDigestToBase64('sha512', PORTAGE_SHA512)} blake2b512-${hexDigestToBase64('blake2b512', PORTAGE_BLAKE2B)}`,
      urls: ['https://gitweb.gentoo.org/proj/portage.git/snapshot/portage-3.0.66.1.tar.bz2'],
      kind: 'source',
      from: 'gentoo Manifest sys-apps/portage',
    });
    // The one input still unpinned: no Manifest covers a repository snapshot (see README, "The real chain").
    expect(lock.distfiles['gentoo-20250101.xz.sqfs']).toMatchObject({ integrity: null, kind: 'repo-snapshot' });
  });
});
