import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPackagesIndex } from '../../../src/binhost/packages-index.js';
import { isBootstrapError } from '../../../src/util/errors.js';
import { tempDir } from '../../helpers/env.js';

/** Portage's Packages index, read as lib/portage/getbinpkg.py's PackageIndex reads it. */

const dirs: Array<{ remove: () => void }> = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function index(text: string): string {
  const dir = tempDir('bootstrap-index-');
  dirs.push(dir);
  writeFileSync(join(dir.path, 'Packages'), text);
  return dir.path;
}

async function refusal(path: string): Promise<string> {
  const error = await readPackagesIndex(path).then(() => undefined, (e: unknown) => e);
  expect(isBootstrapError(error) && error.code).toBe('EBINHOSTINDEX');
  return (error as Error).message;
}

describe('Packages index', () => {
  it('reads the header, then each package; a missing PATH is CPV.tbz2, REPO and CHOST come from the header', async () => {
    const dir = index('CHOST: i686-pc-linux-gnu\nPACKAGES: 3\nREPO: gentoo\nVERSION: 0\n\nCPV: app-arch/xz-utils-5.6.3\nSIZE: 10\nMD5: 00\n\nCPV: sys-apps/sed-4.9\nPATH: sys-apps/sed/sed-4.9-2.gpkg.tar\nSIZE: 20\nREPO: other\nDESC: a line: with colons\n\nnot a field\nSIZE: 1\n\n');
    const parsed = await readPackagesIndex(dir);
    expect(parsed.header).toMatchObject({ CHOST: 'i686-pc-linux-gnu', PACKAGES: '3' });
    expect(parsed.packages.map((p) => [p.cpv, p.path, p.size, p.fields.REPO, p.fields.CHOST, p.line])).toEqual([
      ['app-arch/xz-utils-5.6.3', 'app-arch/xz-utils-5.6.3.tbz2', 10, 'gentoo', 'i686-pc-linux-gnu', 6],
      ['sys-apps/sed-4.9', 'sys-apps/sed/sed-4.9-2.gpkg.tar', 20, 'other', 'i686-pc-linux-gnu', 10],
    ]);
    expect(parsed.packages[1]!.fields.DESC).toBe('a line: with colons');
  });

  it('refuses an index without a header, a package without a numeric SIZE, and a PATH outside the folder, by line', async () => {
    expect(await refusal(index('CPV: a/b-1\nSIZE: 1\n\n'))).toMatch(/Packages: line 1: expected the index header/);
    expect(await refusal(index('VERSION: 0\n\nCPV: a/b-1\nSIZE: ten\n\n'))).toMatch(/Packages: line 3: package a\/b-1 has SIZE "ten", not a number/);
    expect(await refusal(index('VERSION: 0\n\n\nCPV: a/b-1\nSIZE: 1\nPATH: ../../etc/shadow\n\n'))).toMatch(/Packages: line 4: package a\/b-1 has PATH "\.\.\/\.\.\/etc\/shadow", which leaves the PKGDIR/);
    expect(await refusal(index('VERSION: 0\n\nCPV: a/b-1\nSIZE: 1\nPATH: /etc/shadow\n\n'))).toMatch(/leaves the PKGDIR/);
  });
});
