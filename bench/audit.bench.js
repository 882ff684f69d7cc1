// audit --scan against `tar -tJf` on a generated source tarball (bench/lib/source-tarball.js:
// 48,000 members, 191 MB of tar, about 69 MB of .tar.xz, 40 of the members small ELF
// executables), in pairs A B A B … (bench/lib/paired.js), twice: compressed as one xz block, as
// upstream source tarballs are (the distfiles `audit --distdir` scans: `xz -T1`), and in 3 MiB
// blocks, as `xz -T0`, pixz (Gentoo's stage3s) and `bootstrap pack` write. xz 5.4 decompresses
// with one thread unless told otherwise: tar does not tell it, the audit does (`xz -dc -T0`),
// which only a file of many blocks can use. tar lists the members; the audit also classifies
// the first KiB of every one. Goal (issue 15): at most 1.1 times tar's time, on the one-block
// file. Making the tarballs takes a minute or more (xz).
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, mib, paired, verdict } from './lib/paired.js';
import { writeSourceTarball } from './lib/source-tarball.js';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
const work = mkdtempSync('/var/tmp/bootstrap-audit-bench-');
try {
  const oneBlock = join(work, 'pkg-1.0.tar.xz');
  const manyBlocks = join(work, 'blocks', 'pkg-1.0.tar.xz');
  const started = Date.now();
  mkdirSync(join(work, 'blocks'));
  const made = await writeSourceTarball(
    [
      { path: oneBlock, xz: ['-T1'] },
      { path: manyBlocks, xz: ['-T0'] },
    ],
    { members: 48_000, textBytes: 128 << 20, randomBytes: 16 << 20 },
  );
  console.log(
    `tarball: ${made.members} members, ${mib(made.bytes)} of tar, ${mib(statSync(oneBlock).size)} as .tar.xz in one block, ${mib(statSync(manyBlocks).size)} in 3 MiB blocks (made in ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  );
  // Both run in the work folder: started where a distfiles.lock lies (this repository), the audit
  // would check that lock too.
  const pair = (title, tarball) =>
    paired({
      title,
      baseline: { label: 'tar -tJf', run: () => measure(['tar', '-tJf', tarball], { cwd: work }) },
      // Exit 1: the audit fails on the ELF members it finds, as it should.
      candidate: { label: 'bootstrap audit --scan', run: () => measure([process.execPath, cli, 'audit', '--scan', tarball], { cwd: work, okStatus: [1], env: { ...process.env, NO_COLOR: '1' } }) },
    });
  const one = await pair('audit --scan of a .tar.xz in one block (as upstream tarballs)', oneBlock);
  const many = await pair('audit --scan of a .tar.xz in 3 MiB blocks (as xz -T0, pixz, bootstrap pack)', manyBlocks);
  verdict(`audit --scan ≤ 1.1 × tar -tJf, one block (median ratio ${one.ratio.median.toFixed(3)})`, one.ratio.median <= 1.1);
  verdict(`audit --scan ≤ 1.1 × tar -tJf, many blocks (median ratio ${many.ratio.median.toFixed(3)})`, many.ratio.median <= 1.1);
} finally {
  rmSync(work, { recursive: true, force: true });
}
