import { chmod, readFile, rename, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { mkdirInRoot, resolveInRoot } from '../host/rooted-fs.js';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { hashFile } from './hash.js';
import { PIN_ALGORITHMS, parseIntegrity } from './integrity.js';
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
 * and returns the names added. A name the lock already pins must match, or this fails. A
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
  const found: Array<{ name: string; urls: string[]; path: string; size: number; integrity: string }> = [];
  for (const [name, urls] of recorded) {
    const path = await findInDistdirs(options, name);
    if (!path) continue;
    const hashed = await hashFile(path, PIN_ALGORITHMS);
    found.push({ name, urls, path, size: hashed.size, integrity: hashed.integrity });
  }
  const added = await updateLock(options.lockPath, (lock) => {
    const names: string[] = [];
    for (const file of found) {
      const entry = lock.distfiles[file.name];
      if (entry?.integrity) {
        const known = parseIntegrity(entry.integrity);
        const now = parseIntegrity(file.integrity);
        if (entry.size !== file.size || known.sha512 !== now.sha512) {
          throw new BootstrapError('ERECORDMISMATCH', `${file.name}, fetched during ${options.stepId}, differs from its entry in ${options.lockPath}`, {
            expected: `${entry.size} bytes, ${entry.integrity}`,
            found: `${file.size} bytes, ${file.integrity}`,
            exitCode: 1,
          });
        }
        continue;
      }
      lock.distfiles[file.name] = {
        ...entry,
        size: file.size,
        integrity: file.integrity,
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
