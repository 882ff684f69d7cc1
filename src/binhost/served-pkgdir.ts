import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import type { Lookup, ServedFile } from './http-server.js';
import { verifyPackagesIndex, type DigestCache, type IndexVerdict } from './verify-index.js';

const CONTENT_TYPES: ReadonlyArray<[RegExp, string]> = [
  [/\.gpkg\.tar$/, 'application/x-tar'],
  [/\.tbz2$/, 'application/x-bzip2'],
];

export function contentType(path: string): string {
  if (path.endsWith('/Packages') || path === 'Packages') return 'text/plain; charset=utf-8';
  return CONTENT_TYPES.find(([pattern]) => pattern.test(path))?.[1] ?? 'application/octet-stream';
}

/** The error that refuses a PKGDIR whose index does not match its files, naming each package. */
export function mismatchError(verdict: IndexVerdict): BootstrapError | undefined {
  const broken = verdict.checks.filter((c) => c.problems.length > 0);
  if (broken.length === 0) return undefined;
  const lines = broken.map((c) => `  ${c.entry.cpv} (${c.entry.path}, ${verdict.index.file} line ${c.entry.line}): ${c.problems.join('; ')}`);
  return new BootstrapError('EBINHOSTMISMATCH', `${verdict.index.file} does not match the packages in its folder; ${broken.length} of ${verdict.checks.length} broken:\n${lines.join('\n')}`, {
    hint: 'Rebuild the broken packages (emerge --buildpkg), or remove them and run `emaint binhost --fix` with PKGDIR set to this folder; a package that changed after Portage wrote it is not served.',
    exitCode: 1,
  });
}

/**
 * A PKGDIR as the server sees it: the `Packages` index and the package files it lists, all
 * checked before anything is served. When the index changes on disk (Portage added a package),
 * the next request for it checks again; unchanged files are not hashed twice. A mismatched
 * index is refused (503) until it matches again.
 */
export class ServedPkgdir {
  readonly pkgdir: string;
  private files = new Map<string, ServedFile>();
  private indexStamp = '';
  private refusal: string | undefined;
  private checking: Promise<void> | undefined;
  private readonly known: DigestCache = new Map();

  private constructor(pkgdir: string) {
    this.pkgdir = resolve(pkgdir);
  }

  /** Checks the folder; throws EBINHOSTMISMATCH naming the broken packages. */
  static async open(pkgdir: string, onChange?: (verdict: IndexVerdict) => void): Promise<{ served: ServedPkgdir; verdict: IndexVerdict }> {
    const served = new ServedPkgdir(pkgdir);
    served.onChange = onChange;
    const verdict = await served.check();
    const error = mismatchError(verdict);
    if (error) throw error;
    return { served, verdict };
  }

  private onChange: ((verdict: IndexVerdict) => void) | undefined;

  readonly lookup: Lookup = async (urlPath) => {
    if (urlPath === '/Packages') await this.recheckIfChanged();
    if (this.refusal) return { status: 503, message: this.refusal };
    return this.files.get(urlPath);
  };

  private async stampOf(): Promise<string> {
    const info = await stat(join(this.pkgdir, 'Packages'));
    return `${info.ino}:${info.size}:${info.mtimeMs}`;
  }

  private async recheckIfChanged(): Promise<void> {
    if ((await this.stampOf().catch(() => '')) === this.indexStamp) return;
    this.checking ??= this.check()
      .then((verdict) => {
        this.onChange?.(verdict);
      })
      .finally(() => {
        this.checking = undefined;
      });
    await this.checking;
  }

  private async check(): Promise<IndexVerdict> {
    const stamp = await this.stampOf().catch(() => '');
    const verdict = await verifyPackagesIndex(this.pkgdir, this.known);
    const error = mismatchError(verdict);
    this.indexStamp = stamp;
    this.refusal = error?.message;
    if (error) return verdict;
    const files = new Map<string, ServedFile>();
    const indexFile = join(this.pkgdir, 'Packages');
    const bytes = await readFile(indexFile);
    const info = await stat(indexFile);
    // The index read after its packages were checked must be the one that was checked.
    if (`${info.ino}:${info.size}:${info.mtimeMs}` !== stamp) {
      this.indexStamp = '';
      return this.check();
    }
    files.set('/Packages', { file: indexFile, size: bytes.length, mtimeMs: info.mtimeMs, etag: `"${createHash('sha256').update(bytes).digest('hex').slice(0, 32)}"`, contentType: contentType('Packages') });
    for (const c of verdict.checks) {
      files.set(`/${c.entry.path}`, {
        file: join(this.pkgdir, c.entry.path),
        size: c.entry.size,
        mtimeMs: c.mtimeMs!,
        etag: `"${c.digests.SHA512!.slice(0, 32)}"`,
        contentType: contentType(c.entry.path),
      });
    }
    this.files = files;
    return verdict;
  }
}
