import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

/** One package block of Portage's `Packages` index, with the line its block starts on. */
export interface IndexEntry {
  line: number;
  fields: Record<string, string>;
  cpv: string;
  /** Where the file is, relative to the PKGDIR (`PATH`, or `CPV.tbz2` when the index has none). */
  path: string;
  size: number;
}

export interface PackagesIndex {
  file: string;
  header: Record<string, string>;
  packages: IndexEntry[];
}

/** The hashes Portage's bintree writes for each package (`_pkgindex_hashes`), in Node's names. */
export const INDEX_HASHES: Readonly<Record<string, string>> = { MD5: 'md5', SHA1: 'sha1' };

/**
 * Reads `<pkgdir>/Packages` the way Portage's `PackageIndex` does (lib/portage/getbinpkg.py):
 * blocks of `KEY: value` lines separated by blank lines, the first block the header; a block
 * without CPV is skipped. The header's REPO and CHOST are inherited by packages that lack them.
 */
export async function readPackagesIndex(pkgdir: string): Promise<PackagesIndex> {
  const file = join(pkgdir, 'Packages');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') {
      throw new BootstrapError('EBINHOSTINDEX', `${file}: no Packages index in ${pkgdir}`, {
        hint: 'Is this a PKGDIR Portage wrote (FEATURES=buildpkg or emerge --buildpkg)? `emaint binhost --fix` writes the index for packages already there.',
      });
    }
    throw error;
  }
  const blocks = splitBlocks(text);
  const [header, ...rest] = blocks;
  if (!header || header.fields.CPV !== undefined) {
    throw new BootstrapError('EBINHOSTINDEX', `${file}: line 1: expected the index header (VERSION, PACKAGES, ...) before the first package`);
  }
  const packages: IndexEntry[] = [];
  for (const block of rest) {
    const { fields, line } = block;
    const cpv = fields.CPV;
    if (!cpv) continue;
    const sizeText = fields.SIZE;
    if (sizeText === undefined || !/^\d+$/.test(sizeText)) {
      throw new BootstrapError('EBINHOSTINDEX', `${file}: line ${line}: package ${cpv} has ${sizeText === undefined ? 'no SIZE' : `SIZE "${sizeText}", not a number`}`, {
        hint: 'Regenerate the index with `emaint binhost --fix` (PKGDIR set to this folder).',
      });
    }
    const path = fields.PATH || `${cpv}.tbz2`;
    if (path.startsWith('/') || path.split('/').includes('..')) {
      throw new BootstrapError('EBINHOSTINDEX', `${file}: line ${line}: package ${cpv} has PATH "${path}", which leaves the PKGDIR`);
    }
    for (const inherited of ['REPO', 'CHOST']) if (fields[inherited] === undefined && header.fields[inherited] !== undefined) fields[inherited] = header.fields[inherited]!;
    packages.push({ line, fields, cpv, path, size: Number(sizeText) });
  }
  return { file, header: header.fields, packages };
}

/** Blank-line separated blocks of `KEY: value` lines; lines without a colon are ignored, as Portage does. */
function splitBlocks(text: string): Array<{ line: number; fields: Record<string, string> }> {
  const blocks: Array<{ line: number; fields: Record<string, string> }> = [];
  let current: { line: number; fields: Record<string, string> } | undefined;
  text.split('\n').forEach((raw, index) => {
    if (raw === '') {
      current = undefined;
      return;
    }
    const colon = raw.indexOf(':');
    if (colon < 0) return;
    if (!current) {
      current = { line: index + 1, fields: {} };
      blocks.push(current);
    }
    // Portage drops the one space after the colon.
    current.fields[raw.slice(0, colon)] = raw.slice(colon + 1).replace(/^ /, '');
  });
  return blocks;
}
