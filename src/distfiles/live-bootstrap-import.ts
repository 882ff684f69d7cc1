import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { findTool } from '../host/tools.js';
import { BootstrapError } from '../util/errors.js';
import { formatIntegrity, hexDigestToBase64, parseIntegrity } from './integrity.js';
import { readLiveBootstrapSources } from './live-bootstrap-sources.js';
import type { AllowBinary, LockEntry } from './lock-schema.js';
import { updateLock } from './write-lock.js';

const run = promisify(execFile);

/** What every imported entry carries, so that a run's phase 0 can select them. */
export const LIVE_BOOTSTRAP_GROUP = 'live-bootstrap';

/** The seeds live-bootstrap's x86 chain starts from, in oriansj/bootstrap-seeds. */
const X86_SEEDS = ['POSIX/x86/hex0-seed', 'POSIX/x86/kaem-optional-seed'];

/**
 * The binaries bootstrap-seeds is made of, for the audit of its tree: every architecture's
 * hex0 and kaem-optional seeds (x86's are also pinned as seed entries of their own).
 */
const SEED_BINARIES: AllowBinary[] = [
  { pattern: 'POSIX/*/hex0-seed', reason: 'the hex0 seed of each architecture: a few hundred hand-written bytes, the root of the chain' },
  { pattern: 'POSIX/*/kaem-optional-seed', reason: 'the kaem-optional seed of each architecture: a minimal shell in a few hundred bytes, its hex0 source in stage0-posix' },
  { pattern: 'UEFI/*/*-seed.efi', reason: 'the same seeds for UEFI; the chain this lock describes does not run them' },
];

export interface LiveBootstrapImportOptions {
  lockPath: string;
  /** The top of a live-bootstrap git checkout, its submodules checked out. */
  checkout: string;
  /** The superproject's git URL; default: the checkout's remote.origin.url, if http(s). */
  url?: string;
}

export interface ImportedEntry {
  name: string;
  kind: LockEntry['kind'];
  /** `updated`: the lock's entry gained URLs or an allowBinaries list. */
  status: 'added' | 'unchanged' | 'updated';
}

export interface LiveBootstrapImport {
  commit: string;
  entries: ImportedEntry[];
  /** Submodules whose repository is not in the checkout: recorded from their gitlink, their own submodules (if any) unread. */
  unread: string[];
}

interface Candidate {
  name: string;
  entry: LockEntry;
  /** What must agree for two entries of one name to be the same file. */
  identity: string;
}

/**
 * `lock import-live-bootstrap DIR`: adds to the lock, with group "live-bootstrap", the
 * superproject and every submodule (nested ones too) as entries pinned by commit, the x86
 * seeds from bootstrap-seeds with their digests, and every source its steps/manifest names
 * (sha256, every URL in order, `from` the first sources file naming it). Everything is read
 * from git objects at the pinned commits, not from the work tree, so the lock describes what
 * the pinned commits hold. An entry already in the lock must be the same file (same commit,
 * same sha256): then only URLs it lacks are appended; any disagreement is an error and the
 * lock is not changed. Importing again changes nothing.
 */
export async function importLiveBootstrap(options: LiveBootstrapImportOptions): Promise<LiveBootstrapImport> {
  const git = findTool('git');
  const top = await checkoutTop(git, options.checkout);
  const commit = await revParse(git, top, 'HEAD');
  const url = options.url ?? (await originUrl(git, top));
  const topName = repoName(url);
  const label = `${topName}@${commit.slice(0, 8)}`;
  const candidates: Candidate[] = [];
  const unread: string[] = [];
  const add = (candidate: Candidate): void => {
    const known = candidates.find((c) => c.name === candidate.name);
    if (!known) candidates.push(candidate);
    else if (known.entry.git && candidate.entry.git && known.entry.git.commit === candidate.entry.git.commit && known.entry.git.path !== candidate.entry.git.path) {
      // One commit checked out at two places (M2libc inside both M2-Mesoplanet and
      // mescc-tools-extra): one entry per place, the later one named after its path too.
      add({ ...candidate, name: candidate.name.replace(/\.tar$/, `+${candidate.entry.git.path.replaceAll('/', '+')}.tar`) });
    } else if (known.identity !== candidate.identity) {
      throw new BootstrapError('ELBIMPORT', `${top}: two different files would both be named ${candidate.name} (${known.entry.from}; ${candidate.entry.from})`);
    }
  };
  add(gitCandidate(topName, url, commit, '', `HEAD of the live-bootstrap checkout imported by lock import-live-bootstrap`));

  // Submodules, depth first: each repository's gitlinks and .gitmodules at its pinned commit.
  const walk = async (repoDir: string, repoCommit: string, repoUrl: string, prefix: string, repoLabel: string): Promise<void> => {
    for (const link of await gitlinks(git, repoDir, repoCommit, repoUrl)) {
      const path = posix.join(prefix, link.path);
      const name = repoName(link.url);
      const candidate = gitCandidate(name, link.url, link.commit, path, `gitlink ${link.path} in ${repoLabel}`);
      if (name === 'bootstrap-seeds') candidate.entry.allowBinaries = SEED_BINARIES;
      add(candidate);
      const subDir = join(repoDir, link.path);
      if (!(await hasCommit(git, subDir, link.commit))) {
        unread.push(path);
        continue;
      }
      const subLabel = `${name}@${link.commit.slice(0, 8)}`;
      if (name === 'bootstrap-seeds') for (const seed of await seedCandidates(git, subDir, link.commit, link.url, subLabel)) add(seed);
      await walk(subDir, link.commit, link.url, path, subLabel);
    }
  };
  await walk(top, commit, url, '', label);
  if (!candidates.some((c) => c.entry.kind === 'seed')) {
    throw new BootstrapError('ELBIMPORT', `${top}: the bootstrap-seeds submodule is not checked out, so the seeds cannot be read`, {
      hint: 'Run `git submodule update --init --recursive` in the checkout first.',
    });
  }

  const sources = await readLiveBootstrapSources((path) => showFile(git, top, commit, path), label);
  for (const source of sources) {
    add({
      name: source.name,
      identity: `sha256 ${source.sha256}`,
      entry: {
        size: null,
        integrity: formatIntegrity({ sha256: hexDigestToBase64('sha256', source.sha256) }),
        urls: source.urls,
        kind: 'source',
        from: `${label}:${source.file}`,
        group: LIVE_BOOTSTRAP_GROUP,
      },
    });
  }

  const entries = await updateLock(options.lockPath, (lock) => {
    const conflicts: string[] = [];
    const outcomes: ImportedEntry[] = [];
    for (const { name, entry } of candidates) {
      const known = lock.distfiles[name];
      if (!known) {
        lock.distfiles[name] = entry;
        outcomes.push({ name, kind: entry.kind, status: 'added' });
        continue;
      }
      const differs = sameFileProblem(known, entry);
      if (differs) {
        conflicts.push(`${name}: ${differs}`);
        continue;
      }
      const newUrls = entry.urls.filter((u) => !known.urls.includes(u));
      known.urls.push(...newUrls);
      // An allow-list the lock lacks is added; one the lock has (maybe edited by hand) is kept.
      const newAllow = entry.allowBinaries !== undefined && known.allowBinaries === undefined;
      if (newAllow) known.allowBinaries = entry.allowBinaries;
      outcomes.push({ name, kind: entry.kind, status: newUrls.length > 0 || newAllow ? 'updated' : 'unchanged' });
    }
    if (conflicts.length > 0) {
      throw new BootstrapError('ELBIMPORT', `${top} disagrees with ${options.lockPath}:\n  ${conflicts.join('\n  ')}`, {
        hint: 'Find out which is right before changing either; the lock was not changed.',
        exitCode: 1,
      });
    }
    return outcomes;
  });
  return { commit, entries, unread };
}

/** Why an entry already in the lock is not the file the import describes, or undefined. */
function sameFileProblem(known: LockEntry, entry: LockEntry): string | undefined {
  if (entry.git) {
    if (known.git?.commit !== entry.git.commit) return `the lock pins ${known.git ? `commit ${known.git.commit}` : 'a file by digest'}, the checkout has commit ${entry.git.commit}`;
    if (known.git.path !== entry.git.path) return `the lock places it at "${known.git.path}", the checkout at "${entry.git.path}"`;
    return undefined;
  }
  const want = parseIntegrity(entry.integrity!).sha256!;
  const have = known.integrity === null ? undefined : parseIntegrity(known.integrity).sha256;
  if (have === undefined) return `the lock has no sha256 for it to compare with ${want}`;
  if (have !== want) return `sha256 ${Buffer.from(have, 'base64').toString('hex')} in the lock, ${Buffer.from(want, 'base64').toString('hex')} in the checkout`;
  if (known.kind !== entry.kind) return `kind ${known.kind} in the lock, ${entry.kind} here`;
  return undefined;
}

function gitCandidate(name: string, url: string, commit: string, path: string, from: string): Candidate {
  return {
    name: `${name}-${commit.slice(0, 12)}.tar`,
    identity: `commit ${commit} at ${path}`,
    entry: { size: null, integrity: null, urls: [url], kind: 'repo-snapshot', from, group: LIVE_BOOTSTRAP_GROUP, git: { commit, path } },
  };
}

async function seedCandidates(git: string, repoDir: string, commit: string, url: string, label: string): Promise<Candidate[]> {
  const raw = rawFileBase(url, commit);
  const seeds: Candidate[] = [];
  for (const path of X86_SEEDS) {
    const bytes = await gitOut(git, repoDir, ['cat-file', 'blob', `${commit}:${path}`], 'buffer').catch(() => {
      throw new BootstrapError('ELBIMPORT', `${repoDir}: ${label} has no ${path}`, { hint: 'live-bootstrap x86 starts from this seed; check the submodule.' });
    });
    const digests = { sha512: createHash('sha512').update(bytes).digest('base64'), sha256: createHash('sha256').update(bytes).digest('base64') };
    seeds.push({
      name: `x86-${posix.basename(path)}`,
      identity: `sha256 ${digests.sha256}`,
      entry: { size: bytes.length, integrity: formatIntegrity(digests), urls: [`${raw}/${path}`], kind: 'seed', from: `${path} in ${label}`, group: LIVE_BOOTSTRAP_GROUP },
    });
  }
  return seeds;
}

/** Where a file of a GitHub repository at a commit is served raw. */
function rawFileBase(url: string, commit: string): string {
  const match = /^https:\/\/github\.com\/([^/]+)\/([^/]+?)(\.git)?\/?$/.exec(url);
  if (!match) throw new BootstrapError('ELBIMPORT', `${url}: only GitHub URLs of bootstrap-seeds are known to serve raw files`, { hint: 'Check the bootstrap-seeds submodule URL.' });
  return `https://raw.githubusercontent.com/${match[1]}/${match[2]}/${commit}`;
}

interface Gitlink {
  path: string;
  commit: string;
  url: string;
}

/** A repository's submodules at a commit: every gitlink, with its URL from .gitmodules (relative URLs resolved against the repository's). */
async function gitlinks(git: string, repoDir: string, commit: string, repoUrl: string): Promise<Gitlink[]> {
  const tree = await gitOut(git, repoDir, ['ls-tree', '-r', '-z', commit]);
  const links = tree
    .split('\0')
    .filter(Boolean)
    .map((line) => /^160000 commit ([0-9a-f]{40})\t(.+)$/s.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ commit: m[1]!, path: m[2]! }));
  if (links.length === 0) return [];
  const config = await gitOut(git, repoDir, ['config', '--blob', `${commit}:.gitmodules`, '--get-regexp', '^submodule\\..*\\.(path|url)$']).catch(() => '');
  const byName = new Map<string, { path?: string; url?: string }>();
  for (const line of config.split('\n').filter(Boolean)) {
    const match = /^submodule\.(.+)\.(path|url) (.*)$/.exec(line);
    if (!match) continue;
    const record = byName.get(match[1]!) ?? {};
    record[match[2] as 'path' | 'url'] = match[3]!;
    byName.set(match[1]!, record);
  }
  return links.map((link) => {
    const url = [...byName.values()].find((r) => r.path === link.path)?.url;
    if (!url) throw new BootstrapError('ELBIMPORT', `${repoDir}: gitlink ${link.path} at ${commit.slice(0, 8)} has no URL in .gitmodules`);
    return { ...link, url: /^\.\.?\//.test(url) ? new URL(url, `${repoUrl.replace(/\/+$/, '')}/`).href : url };
  });
}

/** `owner/name(.git)` → `name`, lowercased: the first part of a snapshot entry's name. */
export function repoName(url: string): string {
  const last = url.replace(/\/+$/, '').split('/').pop() ?? '';
  const name = last.replace(/\.git$/, '').toLowerCase();
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw new BootstrapError('ELBIMPORT', `${url}: cannot name a snapshot after this URL`);
  return name;
}

async function checkoutTop(git: string, dir: string): Promise<string> {
  const wanted = await realpath(dir).catch(() => {
    throw new BootstrapError('ELBIMPORT', `${dir}: no such directory`, { hint: 'Give the top of a live-bootstrap git checkout (git clone -b 1.0 --recursive).' });
  });
  const top = await gitOut(git, wanted, ['rev-parse', '--show-toplevel']).then((t) => t.trim(), () => undefined);
  if (top === undefined || (await realpath(top)) !== wanted) {
    throw new BootstrapError('ELBIMPORT', `${dir} is not the top of a git checkout`, {
      hint: 'Give the top of a live-bootstrap git checkout (git clone -b 1.0 --recursive); the import reads its commits, not loose files.',
    });
  }
  return wanted;
}

async function originUrl(git: string, top: string): Promise<string> {
  const url = await gitOut(git, top, ['config', '--get', 'remote.origin.url']).then((t) => t.trim(), () => '');
  if (!/^https?:\/\//.test(url)) {
    throw new BootstrapError('ELBIMPORT', `${top}: its remote.origin.url (${url || 'none'}) is not an http(s) URL`, {
      hint: 'Say where the superproject is fetched from with --url (e.g. https://github.com/fosslinux/live-bootstrap).',
    });
  }
  return url;
}

/** Whether `dir` is a git repository of its own (not its parent's work tree) that has `commit`. */
async function hasCommit(git: string, dir: string, commit: string): Promise<boolean> {
  if (!(await stat(join(dir, '.git')).catch(() => undefined))) return false;
  return gitOut(git, dir, ['cat-file', '-e', `${commit}^{commit}`]).then(() => true, () => false);
}

async function revParse(git: string, dir: string, rev: string): Promise<string> {
  return (await gitOut(git, dir, ['rev-parse', '--verify', `${rev}^{commit}`])).trim();
}

async function showFile(git: string, dir: string, commit: string, path: string): Promise<string | undefined> {
  const type = await gitOut(git, dir, ['cat-file', '-t', `${commit}:${path}`]).then((t) => t.trim(), () => undefined);
  if (type !== 'blob') return undefined;
  return gitOut(git, dir, ['cat-file', 'blob', `${commit}:${path}`]);
}

function gitOut(git: string, cwd: string, args: string[]): Promise<string>;
function gitOut(git: string, cwd: string, args: string[], encoding: 'buffer'): Promise<Buffer>;
async function gitOut(git: string, cwd: string, args: string[], encoding?: 'buffer'): Promise<string | Buffer> {
  const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
  const { stdout } = await run(git, args, { cwd, env, maxBuffer: 64 << 20, ...(encoding ? { encoding } : {}) });
  return stdout;
}
