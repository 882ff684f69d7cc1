import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packStage } from '../../../src/stage/pack-stage.js';
import { removeStaleTemps, tempName } from '../../../src/util/temp-name.js';
import { needsRoot, needsTool, tempDir } from '../../helpers/env.js';

/** Issue 10, items 5 and 6: what killed writers leave under temporary names never reaches a seed. */

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function scratch(): string {
  const dir = tempDir('bootstrap-leftovers-');
  cleanups.push(dir.remove);
  return dir.path;
}

/** A pid no process has: one of a child that has exited and been reaped. */
function deadPid(): number {
  return Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$"'], { encoding: 'utf8' }).trim());
}

describe('removeStaleTemps', () => {
  it('removes temporary files of gone writers only, and only of the names asked for', async () => {
    const dir = scratch();
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    cleanups.push(() => sleeper.kill('SIGKILL'));
    const dead = deadPid();
    const hex = '0123456789ab';
    const files = {
      dead: `.seed.tar.xz.${dead}.${hex}.tmp`,
      live: `.seed.tar.xz.${sleeper.pid}.${hex}.tmp`,
      mine: tempName(join(dir, 'seed.tar.xz')).split('/').pop()!,
      reused: `.seed.tar.xz.1.${hex}.tmp`, // pid 1 started after this file was last written
      other: `.other.${dead}.${hex}.tmp`,
      notOurs: '.seed.tar.xz.tmp',
    };
    for (const name of Object.values(files)) writeFileSync(join(dir, name), 'partial');
    utimesSync(join(dir, files.reused), new Date('2001-01-01'), new Date('2001-01-01'));

    const removed = await removeStaleTemps(dir, ['seed.tar.xz']);
    expect(removed.sort()).toEqual([join(dir, files.dead), join(dir, files.reused)].sort());
    expect(readdirSync(dir).sort()).toEqual([files.live, files.mine, files.other, files.notOurs].sort());
    expect(await removeStaleTemps(join(dir, 'missing'))).toEqual([]);
  });
});

describe('packStage and leftovers', () => {
  it('never packs a temporary file inside the tree, and names each one it left out', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'tar');
    const base = scratch();
    const root = join(base, 'root');
    mkdirSync(join(root, 'usr/lib/.hidden'), { recursive: true });
    const partial = `.libbig.so.${deadPid()}.0123456789ab.tmp`;
    writeFileSync(join(root, 'usr/lib', partial), Buffer.alloc(1 << 20));
    writeFileSync(join(root, 'usr/lib/libbig.so'), 'whole');
    // Look-alikes that are not bootstrap's temporary names stay in the seed.
    writeFileSync(join(root, 'usr/lib/.hidden/x.1.0123456789ab.tmp'), 'kept');
    writeFileSync(join(root, 'usr/lib/.notes.tmp'), 'kept');
    writeFileSync(join(root, 'usr/lib/.a.b.0123456789ab.tmp'), 'kept');
    const out = join(base, 'seed.tar');
    const result = await packStage({ root, out, exclude: [] });
    const members = execFileSync('tar', ['-tf', out], { encoding: 'utf8' }).trim().split('\n').sort();
    expect(members).toEqual(
      ['./', './usr/', './usr/lib/', './usr/lib/.a.b.0123456789ab.tmp', './usr/lib/.hidden/', './usr/lib/.hidden/x.1.0123456789ab.tmp', './usr/lib/.notes.tmp', './usr/lib/libbig.so'].sort(),
    );
    expect(result.warnings).toContain(`./usr/lib/${partial} in ${root} is a partial file of an interrupted write: left out of the seed`);
    // The progress estimate is of the stream without it.
    expect(result.size).toBeLessThan(1 << 20);
  });

  it('removes what a killed pack left beside the output, and nothing else', async (ctx) => {
    needsRoot(ctx);
    needsTool(ctx, 'tar');
    const base = scratch();
    const root = join(base, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/hostname'), 'box\n');
    const outDir = join(base, 'out');
    mkdirSync(outDir);
    const dead = deadPid();
    const left = [`.seed.tar.${dead}.0123456789ab.tmp`, `.seed.tar.CONTENTS.gz.${dead}.0123456789ab.tmp`, `.seed.tar.DIGESTS.${dead}.0123456789ab.tmp`];
    for (const name of [...left, `.other.tar.${dead}.0123456789ab.tmp`]) writeFileSync(join(outDir, name), 'partial');
    const result = await packStage({ root, out: join(outDir, 'seed.tar'), exclude: [] });
    expect(readdirSync(outDir).sort()).toEqual([`.other.tar.${dead}.0123456789ab.tmp`, 'seed.tar', 'seed.tar.CONTENTS.gz', 'seed.tar.DIGESTS'].sort());
    for (const name of left) expect(result.warnings).toContain(`removed ${join(outDir, name)}, a temporary file an interrupted pack left`);
  });
});
