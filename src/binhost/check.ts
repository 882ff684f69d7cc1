import { mismatchError } from './served-pkgdir.js';
import { verifyPackagesIndex } from './verify-index.js';

/**
 * `binhost check`: every package of the index with its digests and verdict, then the files the
 * index does not list. Returns the exit status: 1 when any package breaks the index.
 */
export async function checkPkgdir(pkgdir: string, out: { json: boolean; write: (text: string) => void }): Promise<number> {
  const verdict = await verifyPackagesIndex(pkgdir);
  const error = mismatchError(verdict);
  if (out.json) {
    const packages = verdict.checks.map((c) => ({ cpv: c.entry.cpv, path: c.entry.path, size: c.entry.size, buildTime: c.entry.fields.BUILD_TIME, digests: c.digests, problems: c.problems }));
    out.write(`${JSON.stringify({ ok: !error, index: verdict.index.file, packages, unlisted: verdict.unlisted }, null, 2)}\n`);
  } else {
    for (const c of verdict.checks) {
      out.write(`${c.problems.length ? 'FAIL' : 'ok  '} ${c.entry.cpv}  ${c.entry.path}  ${c.entry.size} bytes${c.digests.SHA512 ? `  sha512:${c.digests.SHA512.slice(0, 16)}…` : ''}\n`);
      for (const p of c.problems) out.write(`       ${p}\n`);
    }
    for (const path of verdict.unlisted) out.write(`note ${path}: a package file the index does not list (not served; \`emaint binhost --fix\` adds it)\n`);
    out.write(error ? `${error.message.split('\n')[0]}\n` : `${verdict.checks.length} packages match ${verdict.index.file}\n`);
  }
  return error ? 1 : 0;
}
