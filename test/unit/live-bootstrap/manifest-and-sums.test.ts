import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutManifest } from '../../../src/live-bootstrap/manifest.js';
import { PACKAGE_NAME, parsePackageSums } from '../../../src/live-bootstrap/package-sums.js';
import { projectRoot, tempDir } from '../../helpers/env.js';

// live-bootstrap 1.0's own steps/manifest and SHA256SUMS.pkgs, from the shared folder.
const SHARED = process.env.BOOTSTRAP_SHARED ? resolve(process.env.BOOTSTRAP_SHARED) : resolve(projectRoot, '../shared');
const SOURCES_TAR = join(SHARED, 'real/live-bootstrap-1.0-fcfc7bde-sources.tar.gz');

describe('live-bootstrap 1.0: the manifest cut short, and SHA256SUMS.pkgs', () => {
  const work = tempDir('lb-sums-');
  let tree = '';
  beforeAll(() => {
    if (!existsSync(SOURCES_TAR)) return;
    execFileSync('tar', ['-xzf', SOURCES_TAR, '-C', work.path]);
    tree = join(work.path, 'live-bootstrap-1.0');
  });
  afterAll(() => work.remove());
  const skipWithout = (ctx: { skip: (note: string) => void }) => {
    if (!tree) ctx.skip(`needs ${SOURCES_TAR} (the shared folder beside the checkout, or set BOOTSTRAP_SHARED)`);
  };

  it('cuts the manifest before a whole line, keeping every line before it, and names a line it does not have', (ctx) => {
    skipWithout(ctx);
    const manifest = readFileSync(join(tree, 'steps/manifest'), 'utf8');
    const cut = cutManifest(manifest, 'build: mes-0.26.1', 'steps/manifest');
    expect(cut.split('\n').filter((l) => l.startsWith('build:'))).toEqual(['build: checksum-transcriber-1.0', 'build: simple-patch-1.0']);
    expect(manifest.startsWith(cut)).toBe(true);
    expect(cutManifest(manifest, undefined, 'm')).toBe(manifest);
    expect(() => cutManifest(manifest, 'build: mes-9', 'steps/manifest of live-bootstrap')).toThrow('steps/manifest of live-bootstrap has no line "build: mes-9" to stop before');
  });

  it('reads the 128 packages of SHA256SUMS.pkgs, every one named <pkg>_<rev>.tar.bz2, and names a bad line', (ctx) => {
    skipWithout(ctx);
    const sums = parsePackageSums(readFileSync(join(tree, 'steps/SHA256SUMS.pkgs'), 'utf8'), 'SHA256SUMS.pkgs');
    expect(sums.size).toBe(128);
    expect([...sums.keys()].every((name) => PACKAGE_NAME.test(name))).toBe(true);
    expect(sums.get('tcc-0.9.27_3.tar.bz2')).toMatch(/^[0-9a-f]{64}$/);
    expect(() => parsePackageSums('abc  x.tar.bz2\n', 'SHA256SUMS.pkgs')).toThrow('SHA256SUMS.pkgs:1: expected "<sha256>  <package>.tar.bz2"');
  });
});
