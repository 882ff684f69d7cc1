// audit --scan against `tar -tJf` on a generated source tarball (bench/lib/source-tarball.js:
// 48,000 members, 191 MB of tar, about 69 MB of .tar.xz, 40 of the members small ELF
// executables), in pairs A B A B … (bench/lib/paired.js). Both sides decompress with the same
// `xz -dc`; tar lists the members, the audit also classifies the first KiB of every one.
// Goal (issue 15): at most 1.1 times tar's time. Making the tarball takes a minute or more (xz).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measure, mib, paired, verdict } from './lib/paired.js';
import { writeSourceTarball } from './lib/source-tarball.js';

const cli = fileURLToPath(new URL('../bin/bootstrap.js', import.meta.url));
const work = mkdtempSync('/var/tmp/bootstrap-audit-bench-');
try {
  const tarball = join(work, 'pkg-1.0.tar.xz');
  const started = Date.now();
  const made = await writeSourceTarball(tarball, { members: 48_000, textBytes: 128 << 20, randomBytes: 16 << 20 });
  console.log(`tarball: ${made.members} members, ${mib(made.bytes)} of tar, ${mib(statSync(tarball).size)} as .tar.xz (made in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  const summary = await paired({
    title: 'audit --scan of a .tar.xz',
    baseline: { label: 'tar -tJf', run: () => measure(['tar', '-tJf', tarball]) },
    // Exit 1: the audit fails on the ELF members it finds, as it should.
    candidate: { label: 'bootstrap audit --scan', run: () => measure([process.execPath, cli, 'audit', '--scan', tarball], { okStatus: [1], env: { ...process.env, NO_COLOR: '1' } }) },
  });
  verdict(`audit --scan ≤ 1.1 × tar -tJf (median ratio ${summary.ratio.median.toFixed(3)})`, summary.ratio.median <= 1.1);
} finally {
  rmSync(work, { recursive: true, force: true });
}
