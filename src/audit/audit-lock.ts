import { readFile } from 'node:fs/promises';
import { algorithmsOf, integrityProblem } from '../distfiles/integrity.js';
import { DISTFILE_KINDS, type LockEntry, lockEntrySchema } from '../distfiles/lock-schema.js';
import { parseLock } from '../distfiles/read-lock.js';
import { BootstrapError, errnoCode, isBootstrapError } from '../util/errors.js';
import type { Check, CheckStatus, SeedListing } from './report.js';

export interface LockAudit {
  path: string;
  checks: Check[];
  seeds: SeedListing[];
  /** Entries that are individually well formed, by name; later checks (inputs, run) use these. */
  entries: Map<string, LockEntry>;
}

/** Hosts and paths of distfile mirrors: a file known only there has no upstream to compare with. */
const MIRROR_URL = /(^|\.)distfiles\.[^/]+\/|\/distfiles\/|(^|\.)mirror[s]?\.|\/mirrors?\//i;

/**
 * Audits a lock file. A lock that cannot be read or is not JSON (or has an unknown
 * lockfileVersion) is bad input and throws; schema problems are reported as failures, and
 * every entry is still checked on its own so the report says which entries are wrong and why.
 */
export async function auditLock(path: string, options: { strict: boolean }): Promise<LockAudit> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new BootstrapError('EAUDITLOCK', `${path}: cannot read the lock (${errnoCode(error) ?? (error as Error).message})`, {
      hint: 'Give the lock with --lock FILE (the project ships distfiles.lock).',
    });
  }
  const checks: Check[] = [];
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    checks.push({ section: 'lock', subject, check, status, reason, ...(details ? { details } : {}) });

  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    parseLock(text, path); // throws the syntax error with line and column
  }
  try {
    const lock = parseLock(text, path);
    add(path, 'schema', 'pass', `valid lockfileVersion ${lock.lockfileVersion}, ${Object.keys(lock.distfiles).length} entries`);
  } catch (error) {
    if (!isBootstrapError(error) || error.code === 'ELOCKVERSION' || error.code === 'ELOCKSYNTAX') throw error;
    add(path, 'schema', 'fail', 'the lock does not match its schema', error.message.split('\n'));
  }

  const distfiles = (data as { distfiles?: unknown } | null)?.distfiles;
  const raw: Record<string, unknown> = distfiles !== null && typeof distfiles === 'object' ? (distfiles as Record<string, unknown>) : {};
  const entries = new Map<string, LockEntry>();
  const seeds: SeedListing[] = [];
  const strictStatus: CheckStatus = options.strict ? 'fail' : 'warn';

  for (const name of Object.keys(raw).sort()) {
    const entry = (raw[name] ?? {}) as Record<string, unknown>;
    const parsed = lockEntrySchema.safeParse(entry);
    if (parsed.success) entries.set(name, parsed.data);

    const integrity = entry.integrity;
    // Imported from an upstream's own sha256 list (live-bootstrap's sources files): the
    // schema accepts sha256 alone and no size for these only.
    const imported = typeof entry.group === 'string';
    const git = parsed.success ? parsed.data.git : undefined;
    const signature = parsed.success ? parsed.data.signature : undefined;
    if ((integrity === null || integrity === undefined) && git) {
      add(name, 'pinned', 'pass', `pinned by git commit ${git.commit} (fetch checks the commit and archives it)`);
    } else if ((integrity === null || integrity === undefined) && signature) {
      add(name, 'pinned', 'pass', `pinned by an OpenPGP signature of key ${signature.fingerprint} (fetch checks it with gpgv, then records the digests)`);
    } else if (integrity === null || integrity === undefined) {
      add(name, 'pinned', strictStatus, 'unpinned: no integrity, so any bytes would be accepted once (`fetch --pin` trusts the first download)');
    } else if (typeof integrity !== 'string') {
      add(name, 'integrity', 'fail', 'integrity is not a string');
    } else {
      const problem = integrityProblem(integrity, { sha256Only: imported });
      const sha256Only = !problem && algorithmsOf(integrity).every((a) => a === 'sha256');
      if (problem) add(name, 'integrity', 'fail', `integrity ${problem}; sha512 (or stronger) is required`);
      else {
        add(name, 'integrity', 'pass', `pinned: ${algorithmsOf(integrity).join(' + ')}${typeof entry.size === 'number' ? `, ${entry.size} bytes` : sha256Only ? `, size unknown (${String(entry.from)})` : ''}`);
      }
      if (typeof entry.size !== 'number' && !sha256Only) add(name, 'pinned', 'fail', 'integrity is set but the size is not');
      // Written by `fetch --pin` / `lock add` (src/distfiles/add-entry.ts): a hash nobody vouched for.
      if (typeof entry.from === 'string' && entry.from.startsWith('pinned on first use')) {
        add(name, 'pinned', strictStatus, `${entry.from}: trusted on first use, only as sound as that server was then; confirm it against a Manifest (lock import-manifest) or a signature`);
      }
    }

    const kind = entry.kind;
    if (typeof kind !== 'string' || !(DISTFILE_KINDS as readonly string[]).includes(kind)) {
      add(name, 'kind', 'fail', `kind ${kind === undefined ? 'is missing' : `${JSON.stringify(kind)} is unknown`}; one of ${DISTFILE_KINDS.join(', ')}`);
    } else {
      add(name, 'kind', 'pass', kind);
    }

    const urls = Array.isArray(entry.urls) ? entry.urls.filter((u): u is string => typeof u === 'string') : [];
    const https = urls.filter((u) => u.startsWith('https://'));
    if (urls.length === 0) add(name, 'urls', 'fail', 'no URL: nobody can fetch or re-check this file');
    else if (https.length === 0) add(name, 'urls', strictStatus, 'no https URL: the download is not authenticated', urls);
    else if (kind === 'source' && urls.every((u) => MIRROR_URL.test(u.replace(/^\w+:\/\//, '')))) {
      add(name, 'urls', strictStatus, 'only distfile-mirror URLs: no upstream origin to compare the file with', urls);
    } else add(name, 'urls', 'pass', `${https.length} https URL${https.length === 1 ? '' : 's'}`);

    if (kind === 'seed') {
      seeds.push({
        name,
        integrity: typeof integrity === 'string' ? integrity : null,
        size: typeof entry.size === 'number' ? entry.size : null,
        urls,
        ...(typeof entry.from === 'string' ? { from: entry.from } : {}),
      });
    }
  }
  return { path, checks, seeds, entries };
}
