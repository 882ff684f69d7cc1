import { stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BootstrapError } from '../util/errors.js';

/** Where a distfile can come from: an HTTP(S) URL, or a file in a local mirror directory. */
export type Source = { kind: 'http'; url: string } | { kind: 'dir'; path: string };

export function describeSource(source: Source): string {
  return source.kind === 'http' ? source.url : source.path;
}

/**
 * `--mirror` values: an http(s) URL (the file is MIRROR/<name>), a `file://` URL or a plain
 * directory path. A directory that does not exist is bad input, reported before any download.
 */
export async function checkMirrors(mirrors: readonly string[]): Promise<string[]> {
  const checked: string[] = [];
  for (const mirror of mirrors) {
    if (/^https?:\/\//i.test(mirror)) {
      try {
        new URL(mirror);
      } catch {
        throw new BootstrapError('EMIRROR', `--mirror ${mirror}: not a valid URL`);
      }
      checked.push(mirror.replace(/\/+$/, ''));
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror) && !mirror.startsWith('file://')) {
      throw new BootstrapError('EMIRROR', `--mirror ${mirror}: only http, https and file URLs or directory paths are mirrors`);
    }
    const dir = mirror.startsWith('file://') ? fileURLToPath(mirror) : isAbsolute(mirror) ? mirror : resolve(mirror);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      throw new BootstrapError('EMIRROR', `--mirror ${mirror}: ${dir} is not a directory`, {
        hint: 'Give an http(s) URL or an existing directory holding the files by name.',
      });
    }
    checked.push(dir);
  }
  return checked;
}

/** Mirrors first (in the order given), then the entry's own URLs. */
export function sourcesFor(name: string, urls: readonly string[], mirrors: readonly string[]): Source[] {
  const fromMirrors: Source[] = mirrors.map((m) =>
    /^https?:\/\//i.test(m) ? { kind: 'http', url: `${m}/${encodeURIComponent(name)}` } : { kind: 'dir', path: join(m, name) },
  );
  return [...fromMirrors, ...urls.map((url): Source => ({ kind: 'http', url }))];
}
