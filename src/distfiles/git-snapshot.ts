import { execFile } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTool } from '../host/tools.js';
import { BootstrapError } from '../util/errors.js';
import { hashFile } from './hash.js';
import { PIN_ALGORITHMS } from './integrity.js';
import type { GitPin, LockEntry } from './lock-schema.js';
import type { DistfileStore, StoredFile } from './store.js';

const run = promisify(execFile);

export interface GitFetched extends StoredFile {
  source: string;
}

export interface GitFetchOptions {
  /** Below this many bytes per second over `lowSpeedSeconds`, git gives up on a URL (as the fetcher's --speed-limit). */
  lowSpeedBytesPerSecond: number;
  lowSpeedSeconds: number;
  signal?: AbortSignal;
}

/**
 * Brings an entry pinned by a git commit into the store as `git archive --format=tar <commit>`
 * (no prefix): the commit is fetched alone (`--depth=1`) into a bare repository under the
 * store, or, from a server that refuses a fetch by commit (dumb HTTP does), with everything;
 * the fetched object must be that very commit, then the archive is written to a temporary
 * name, fsynced and renamed. URLs are tried in order; nothing is left under the final name
 * unless it came from the pinned commit.
 */
export async function fetchGitSnapshot(name: string, entry: LockEntry & { git: GitPin }, store: DistfileStore, options: GitFetchOptions): Promise<GitFetched> {
  const git = gitRunner(options);
  const { commit } = entry.git;
  const failures: string[] = [];
  const work = await store.workDirFor(name, 'git');
  try {
    const repo = join(work, 'repo.git');
    await git(work, ['init', '--quiet', '--bare', repo]);
    for (const url of entry.urls) {
      const fetched = await fetchCommit(git, repo, url, commit);
      if (fetched !== undefined) {
        failures.push(`${url}: ${fetched}`);
        continue;
      }
      const tar = join(work, 'archive.tar');
      await git(repo, ['archive', '--format=tar', `--output=${tar}`, commit]);
      const handle = await open(tar, 'r+');
      await handle.sync().finally(() => handle.close());
      const hashed = await hashFile(tar, PIN_ALGORITHMS);
      const stored = await store.commit(name, tar, hashed.digests, { commit });
      return { ...stored, source: url };
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  throw new BootstrapError('EFETCH', `${name}: no source gave git commit ${commit}`, {
    expected: `commit ${commit}`,
    found: `\n    ${failures.join('\n    ')}`,
    hint: 'Check the URLs in the lock (a git remote that has the commit).',
    exitCode: 1,
  });
}

/** Undefined when `commit` is now in `repo`, else why not. */
async function fetchCommit(git: GitRunner, repo: string, url: string, commit: string): Promise<string | undefined> {
  const byCommit = await git(repo, ['fetch', '--quiet', '--no-tags', '--depth=1', url, commit]).then(
    () => undefined,
    (error: unknown) => describeGitError(error),
  );
  if (byCommit !== undefined) {
    // Dumb HTTP and servers without uploadpack.allowReachableSHA1InWant refuse a fetch by
    // commit: fetch every branch and tag, then look for the commit among them.
    const all = await git(repo, ['fetch', '--quiet', '--tags', url, '+refs/heads/*:refs/remotes/origin/*']).then(
      () => undefined,
      (error: unknown) => describeGitError(error),
    );
    if (all !== undefined) return `fetching the commit failed (${byCommit}); fetching all branches failed too (${all})`;
  }
  const found = await git(repo, ['rev-parse', '--verify', '--quiet', `${commit}^{commit}`]).then(
    (out) => out.trim(),
    () => undefined,
  );
  if (found === undefined) return 'the repository does not have the commit';
  if (found !== commit) return `rev-parse gave ${found}, not the pinned commit`;
  return undefined;
}

type GitRunner = (cwd: string, args: string[]) => Promise<string>;

function gitRunner(options: GitFetchOptions): GitRunner {
  const git = findTool('git');
  // No prompts for credentials, no system or user configuration that could rewrite URLs; a
  // stalled server is given up on as the HTTP fetcher gives one up.
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', LC_ALL: 'C' };
  const speed = options.lowSpeedBytesPerSecond > 0 ? ['-c', `http.lowSpeedLimit=${options.lowSpeedBytesPerSecond}`, '-c', `http.lowSpeedTime=${options.lowSpeedSeconds}`] : [];
  return async (cwd, args) => {
    if (options.signal?.aborted) throw new BootstrapError('EINTERRUPTED', 'fetching a git snapshot was interrupted', { exitCode: 130 });
    const { stdout } = await run(git, [...speed, ...args], { cwd, env, maxBuffer: 16 << 20, signal: options.signal });
    return stdout;
  };
}

function describeGitError(error: unknown): string {
  const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
  const last = stderr.split('\n').filter(Boolean).pop();
  return last ?? (error as Error).message;
}
