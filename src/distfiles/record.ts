import { chmod, readFile, rename, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { mkdirInRoot, resolveInRoot } from '../host/rooted-fs.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { hashFile } from './hash.js';
import { type Digests, PIN_ALGORITHMS, formatIntegrity, mismatchedAlgorithms, parseIntegrity } from './integrity.js';
import { distfileNameProblem } from './lock-schema.js';
import { updateLock } from './write-lock.js';

/** Where, inside a root, the recording fetch command logs `URI<TAB>FILE` per download. */
export const RECORD_LOG = '/var/tmp/bootstrap/recorded-fetches.tsv';

/**
 * The FETCHCOMMAND/RESUMECOMMAND script installed in a root, called by Portage as
 * `<script> "${URI}" "${DISTDIR}" "${FILE}"`. Sealed: every distfile was placed beforehand, so
 * a call means the build wants something the lock does not have, and it fails saying so.
 * Recording: fetch with curl (certificates checked) and log what was fetched, for
 * collectRecorded. Portage's ${FILE} may be a temporary `<file>.__download__`; the log and
 * the message use the real name.
 */
export function fetchCommandScript(mode: 'sealed' | 'record'): string {
  const head = [
    '#!/bin/sh',
    `# Installed by bootstrap's distfiles step (${mode} mode). Usage: $0 URI DISTDIR FILE`,
    'uri=$1 distdir=$2 file=$3',
    'name=${file%.__download__}',
  ];
  if (mode === 'sealed') {
    return [
      ...head,
      'echo "${name} is not in distfiles.lock (Portage asked for ${uri}; add it with bootstrap lock add, or run with --record)" >&2',
      'exit 1',
      '',
    ].join('\n');
  }
  return [
    ...head,
    'set -u',
    `log=${RECORD_LOG}`,
    'curl --fail --location --retry 3 --output "${distdir}/${file}" -- "${uri}" || exit 1',
    'mkdir -p "${log%/*}"',
    `printf '%s\\t%s\\n' "\${uri}" "\${name}" >> "\${log}"`,
    '',
  ].join('\n');
}

/** Makes the record log's folder writable for Portage's unprivileged fetch user too. */
export async function prepareRecordLog(rootPath: string): Promise<void> {
  await chmod(await mkdirInRoot(rootPath, posix.dirname(RECORD_LOG)), 0o1777);
}

export interface CollectOptions {
  rootPath: string;
  lockPath: string;
  stepId: string;
  /** Portage's DISTDIR(s), as paths inside the root. */
  distdirs: string[];
}

/**
 * After a step in record mode: hashes every file the recording fetch command logged (sha512
 * and blake2b512), adds it to the lock (`from: recorded during <step>`), moves the log aside
 * and returns the names added or completed. A name the lock already pins must match, or this
 * fails; one pinned by sha256 alone (imported) that matches gains size, sha512 and blake2b512. A
 * logged file no longer in any DISTDIR (a download Portage then rejected) is not added.
 */
export async function collectRecorded(options: CollectOptions): Promise<string[]> {
  const logPath = await resolveInRoot(options.rootPath, RECORD_LOG);
  let text: string;
  try {
    text = await readFile(logPath, 'utf8');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return [];
    throw error;
  }
  const recorded = new Map<string, string[]>();
  for (const line of text.split('\n').filter(Boolean)) {
    const [uri, name] = line.split('\t');
    if (!uri || !name || distfileNameProblem(name) || !/^https?:\/\//.test(uri)) {
      throw new BootstrapError('ERECORD', `${logPath}: cannot read the line ${JSON.stringify(line)}`);
    }
    const urls = recorded.get(name) ?? [];
    if (!urls.includes(uri)) urls.push(uri);
    recorded.set(name, urls);
  }
  const found: Array<{ name: string; urls: string[]; path: string; size: number; digests: Digests }> = [];
  for (const [name, urls] of recorded) {
    const path = await findInDistdirs(options, name);
    if (!path) continue;
    // sha256 too: the lock may already pin the name by sha256 alone (an imported upstream list).
    const hashed = await hashFile(path, [...PIN_ALGORITHMS, 'sha256']);
    found.push({ name, urls, path, size: hashed.size, digests: hashed.digests });
  }
  const added = await updateLock(options.lockPath, (lock) => {
    const names: string[] = [];
    for (const file of found) {
      const entry = lock.distfiles[file.name];
      const integrity = formatIntegrity({ sha512: file.digests.sha512, blake2b512: file.digests.blake2b512 });
      if (entry?.integrity) {
        if ((entry.size !== null && entry.size !== file.size) || mismatchedAlgorithms(entry.integrity, file.digests).length > 0) {
          throw new BootstrapError('ERECORDMISMATCH', `${file.name}, fetched during ${options.stepId}, differs from its entry in ${options.lockPath}`, {
            expected: `${entry.size ?? 'any'} bytes, ${entry.integrity}`,
            found: `${file.size} bytes, ${formatIntegrity(file.digests)}`,
            exitCode: 1,
          });
        }
        if (entry.size === null) {
          // The same file as an entry pinned by another project's sha256 (live-bootstrap and
          // Gentoo share some sources): it gains its size, sha512 and blake2b512, and says so.
          Object.assign(entry, {
            size: file.size,
            integrity: formatIntegrity({ ...parseIntegrity(entry.integrity), sha512: file.digests.sha512, blake2b512: file.digests.blake2b512 }),
            urls: [...new Set([...entry.urls, ...file.urls])],
            from: `${entry.from}; recorded during ${options.stepId} with the same sha256`,
          });
          names.push(file.name);
        }
        continue;
      }
      lock.distfiles[file.name] = {
        ...entry,
        size: file.size,
        integrity,
        urls: entry ? [...new Set([...entry.urls, ...file.urls])] : file.urls,
        kind: entry?.kind ?? 'source',
        from: `recorded during ${options.stepId}`,
      };
      names.push(file.name);
    }
    return names;
  });
  await rename(logPath, `${logPath}.collected-${new Date().toISOString().replace(/[:.]/g, '')}`);
  return added;
}

async function findInDistdirs(options: CollectOptions, name: string): Promise<string | undefined> {
  for (const distdir of options.distdirs) {
    const path = await resolveInRoot(options.rootPath, posix.join(distdir, name));
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) return path;
  }
  return undefined;
}
