import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';

/**
 * A hidden name beside `path` for writing before a rename into place. Hidden, because a visible
 * `<name>.tmp…` left by an interrupted run would match Catalyst's `<source_subpath>.*` glob and
 * make it stop with "Ambiguous Filename".
 */
export function tempName(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}
