import { attributePackages, shortFingerprint } from '../audit/audit-pkgdir.js';
import { mismatchError } from './served-pkgdir.js';
import { verifyPackagesIndex } from './verify-index.js';

/**
 * `binhost check`: every package of the index with its digests, its verdict and, given a run's
 * work folder, the step attempt that built it; then the files the index does not list. Returns
 * the exit status: 1 when any package breaks the index.
 */
export async function checkPkgdir(pkgdir: string, out: { json: boolean; workDir?: string; write: (text: string) => void }): Promise<number> {
  const verdict = await verifyPackagesIndex(pkgdir);
  const error = mismatchError(verdict);
  const packages = attributePackages(verdict.checks, out.workDir);
  if (out.json) {
    out.write(`${JSON.stringify({ ok: !error, index: verdict.index.file, packages, unlisted: verdict.unlisted }, null, 2)}\n`);
    return error ? 1 : 0;
  }
  for (const p of packages) {
    out.write(`${p.problems.length ? 'FAIL' : 'ok  '} ${p.cpv}  ${p.path}  ${p.size} bytes\n`);
    if (p.digests.SHA512) out.write(`       sha512 ${p.digests.SHA512}\n`);
    for (const problem of p.problems) out.write(`       ${problem}\n`);
    if (out.workDir) {
      const by = p.producedBy;
      out.write(by ? `       built by run ${by.runId} step ${by.step} attempt ${by.attempt} (fingerprint ${shortFingerprint(by.fingerprint)})\n` : `       built by no run in ${out.workDir}\n`);
    }
  }
  for (const path of verdict.unlisted) out.write(`note ${path}: a package file the index does not list (not served; \`emaint binhost --fix\` adds it)\n`);
  out.write(error ? `${error.message.split('\n')[0]}\n` : `${verdict.checks.length} packages match ${verdict.index.file}\n`);
  return error ? 1 : 0;
}
