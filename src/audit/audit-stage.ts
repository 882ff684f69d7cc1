import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { ByteStream } from './byte-stream.js';
import { decompress, isCompression, sniffContainer } from './containers.js';
import { PROVENANCE_FILE, type InTotoStatement } from './provenance.js';
import type { Check, CheckStatus } from './report.js';
import { tarMembers, type TarHead } from './tar-members.js';

export interface StageAuditOptions {
  /** Provenance to compare the seed's digest with; by default provenance.json beside the stage. */
  provenancePath?: string;
  /**
   * False when verifyProvenance compares the seed with the provenance subject (given this
   * audit's `sha512`), so the fact is checked once.
   */
  provenanceSubject?: boolean;
}

export interface StageAudit {
  checks: Check[];
  /** `category/pf` of every package in the stage's var/db/pkg, sorted. */
  packages: string[];
  /** sha512 hex of the stage's bytes, computed in the same pass. */
  sha512: string;
}

/** Catalyst's `.DIGESTS` block names, mapped to node's hash names. */
const DIGEST_ALGORITHMS: Record<string, string> = {
  SHA512: 'sha512', BLAKE2B: 'blake2b512', SHA256: 'sha256', SHA384: 'sha384', SHA1: 'sha1', MD5: 'md5',
};
const STRONG = new Set(['sha512', 'blake2b512']);

/** `<hex>  <name>` lines under `# <ALGO> HASH` headers, as Catalyst writes them. */
export function parseDigests(text: string): Map<string, Map<string, string>> {
  const byAlgorithm = new Map<string, Map<string, string>>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const header = /^#\s*(\S+)\s+HASH\s*$/i.exec(line);
    if (header) {
      current = header[1]!.toUpperCase();
      if (!byAlgorithm.has(current)) byAlgorithm.set(current, new Map());
      continue;
    }
    const entry = /^([0-9a-fA-F]+)\s+\*?(.+)$/.exec(line.trim());
    if (entry && current) byAlgorithm.get(current)!.set(entry[2]!.trim(), entry[1]!.toLowerCase());
  }
  return byAlgorithm;
}

/** PMS version syntax; what precedes it in a `pf` is the package name. */
const VERSION = /-(\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|p)\d*)*(-r\d+)?)$/;

export function packageName(pf: string): string {
  return pf.replace(VERSION, '');
}

const VDB = /^(?:\.\/|\/)*var\/db\/pkg\/([^/]+)\/([^/]+)(?:\/(.*))?$/;

/**
 * Audits a seed stage3: its sha512 (and any other digest Catalyst recorded) against the
 * `.DIGESTS` beside it and against the provenance subject, and the packages in its
 * var/db/pkg: `*-bin` packages and packages whose vdb entry records QA_PREBUILT (Portage copies
 * that variable into the entry when the ebuild sets it) are binary distributions and fail.
 * One streaming pass hashes the file and reads the tarball's member list.
 */
export async function auditStage(stagePath: string, options: StageAuditOptions = {}): Promise<StageAudit> {
  const info = await stat(stagePath).catch((error: unknown) => {
    throw new BootstrapError('EAUDITSTAGE', `--stage ${stagePath}: ${errnoCode(error) === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      hint: 'Point --stage at the seed stage3 tarball the run produced.',
    });
  });
  if (!info.isFile()) throw new BootstrapError('EAUDITSTAGE', `--stage ${stagePath}: not a file`);

  const checks: Check[] = [];
  const add = (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) =>
    checks.push({ section: 'stage', subject, check, status, reason, ...(details ? { details } : {}) });
  const name = basename(stagePath);

  const digestsPath = `${stagePath}.DIGESTS`;
  const recorded = new Map<string, string>();
  const digestsText = await readFile(digestsPath, 'utf8').catch(() => undefined);
  if (digestsText !== undefined) {
    for (const [algorithm, files] of parseDigests(digestsText)) {
      const hex = files.get(name);
      if (hex !== undefined) recorded.set(algorithm, hex);
    }
  }
  const hashes = new Map<string, Hash>([['sha512', createHash('sha512')]]);
  for (const algorithm of recorded.keys()) {
    const node = DIGEST_ALGORITHMS[algorithm];
    if (node && !hashes.has(node)) hashes.set(node, createHash(node));
  }

  const { packages, qaPrebuilt } = await readStage(stagePath, hashes);
  const computed = new Map([...hashes].map(([algorithm, hash]) => [algorithm, hash.digest('hex')]));

  if (digestsText === undefined) add(digestsPath, 'digests', 'fail', 'no .DIGESTS file beside the stage to check it against');
  else if (recorded.size === 0) add(digestsPath, 'digests', 'fail', `the .DIGESTS file has no digest for ${name}`);
  else {
    const mismatches: string[] = [];
    const matched: string[] = [];
    const unknown: string[] = [];
    for (const [algorithm, hex] of recorded) {
      const node = DIGEST_ALGORITHMS[algorithm];
      if (!node) unknown.push(algorithm);
      else if (computed.get(node) !== hex) mismatches.push(`${algorithm}: .DIGESTS ${hex}, file ${computed.get(node)}`);
      else matched.push(node);
    }
    if (mismatches.length > 0) add(digestsPath, 'digests', 'fail', `${name} does not match its .DIGESTS`, mismatches);
    else if (!matched.some((a) => STRONG.has(a))) add(digestsPath, 'digests', 'warn', `only weak digests to compare (${matched.join(', ') || 'none known'})`, unknown.length ? [`not checked: ${unknown.join(', ')}`] : undefined);
    else add(digestsPath, 'digests', 'pass', `${matched.join(' + ')} match${unknown.length ? ` (not checked: ${unknown.join(', ')})` : ''}`);
  }

  if (options.provenanceSubject !== false) {
    await checkProvenanceSubject(options.provenancePath ?? join(dirname(stagePath), PROVENANCE_FILE), options.provenancePath !== undefined, name, computed.get('sha512')!, add);
  }

  const sorted = [...packages].sort();
  const binary = sorted.filter((p) => packageName(p.split('/')[1]!).endsWith('-bin'));
  const prebuilt = sorted.filter((p) => qaPrebuilt.has(p) && !binary.includes(p));
  if (sorted.length === 0) add(name, 'packages', 'warn', 'no var/db/pkg entries: not a Portage-managed stage, or an empty vdb');
  if (binary.length + prebuilt.length > 0) {
    add(name, 'binary-packages', 'fail', `${binary.length + prebuilt.length} binary-distribution package${binary.length + prebuilt.length === 1 ? '' : 's'} in var/db/pkg`, [
      ...binary.map((p) => `${p}: a -bin package (prebuilt upstream binaries)`),
      ...prebuilt.map((p) => `${p}: its ebuild declares prebuilt files (QA_PREBUILT=${qaPrebuilt.get(p)})`),
    ]);
  } else if (sorted.length > 0) add(name, 'binary-packages', 'pass', `${sorted.length} packages, none a binary distribution`);
  return { checks, packages: sorted, sha512: computed.get('sha512')! };
}

async function checkProvenanceSubject(
  provenancePath: string,
  given: boolean,
  name: string,
  sha512: string,
  add: (subject: string, check: string, status: CheckStatus, reason: string, details?: string[]) => void,
): Promise<void> {
  const provenanceText = await readFile(provenancePath, 'utf8').catch(() => undefined);
  if (provenanceText === undefined) {
    if (given) add(provenancePath, 'provenance-subject', 'fail', 'the provenance document cannot be read');
    else add(provenancePath, 'provenance-subject', 'warn', 'no provenance.json beside the stage: nothing ties it to a run');
    return;
  }
  let subject: { name: string; digest: { sha512?: string } } | undefined;
  try {
    subject = (JSON.parse(provenanceText) as InTotoStatement).subject?.find((s) => s.name === name);
  } catch {
    subject = undefined;
  }
  if (!subject) add(provenancePath, 'provenance-subject', 'fail', `the provenance has no subject named ${name}`);
  else if (subject.digest.sha512 !== sha512) {
    add(provenancePath, 'provenance-subject', 'fail', `sha512 of ${name} differs from the provenance subject`, [
      `provenance ${subject.digest.sha512}`, `file       ${sha512}`,
    ]);
  } else add(provenancePath, 'provenance-subject', 'pass', `sha512 of ${name} matches the provenance subject`);
}

/** One pass over the stage: every byte into `hashes`, every var/db/pkg entry noted. */
async function readStage(stagePath: string, hashes: Map<string, Hash>): Promise<{ packages: Set<string>; qaPrebuilt: Map<string, string> }> {
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(stagePath, { highWaterMark: 1 << 20 })) {
      for (const hash of hashes.values()) hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  }
  const raw = new ByteStream(hashed());
  const packages = new Set<string>();
  const qaPrebuilt = new Map<string, string>();
  try {
    let body = raw;
    let kind = sniffContainer(await body.peek(512));
    if (isCompression(kind)) {
      body = new ByteStream(decompress(kind, raw));
      kind = sniffContainer(await body.peek(512));
    }
    if (kind !== 'tar') throw new Error(`not a tarball (found ${kind ?? 'no archive format'})`);
    // Names and the head of QA_PREBUILT files are all it reads: node-tar skips every body.
    const look = (member: TarHead): false => {
      const match = VDB.exec(member.path);
      if (!match || match[1]!.startsWith('.') || match[2]!.startsWith('.')) return false;
      const pkg = `${match[1]}/${match[2]}`;
      packages.add(pkg);
      if (match[3] === 'QA_PREBUILT' && member.type === 'File') {
        const text = member.head.toString('utf8').trim().replace(/\s+/g, ' ');
        if (text) qaPrebuilt.set(pkg, text);
      }
      return false;
    };
    // look never wants a member whole, so none is yielded: this only drives the parser to the end.
    const members = tarMembers(body, { head: { bytes: 4096, wantsRest: look } });
    while (!(await members.next()).done);
    await raw.drain();
  } catch (error) {
    throw new BootstrapError('EAUDITSTAGE', `--stage ${stagePath}: ${(error as Error).message}`, {
      hint: 'The stage must be a tarball (.tar, .tar.xz, ...); a damaged one needs packing again.',
    });
  }
  return { packages, qaPrebuilt };
}
