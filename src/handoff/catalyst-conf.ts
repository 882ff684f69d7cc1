import { stringify } from 'smol-toml';

export interface CatalystConfSettings {
  storedir: string;
  distdir: string;
  repoBasedir: string;
  reposStoredir?: string;
  jobs: number;
  loadAverage: number;
}

/**
 * Catalyst's options for a personal, from-source build:
 * - no `bindist`: it only restricts USE flags for redistribution, and these builds are for
 *   the builder (the guide removes it);
 * - `autoresume`: a failed target resumes at its last completed point, which is what our
 *   `--run` relies on when a stage is re-run;
 * - `pkgcache` and `kerncache`: keep the binary packages and kernels this machine built from
 *   source, so a re-run does not compile Rust and the kernel again; they are never fetched;
 * - `seedcache`: start a target from the previous target's work folder when it is still there.
 * No `binhost` key at all: Catalyst then never downloads prebuilt packages.
 */
const CATALYST_OPTIONS = ['autoresume', 'kerncache', 'pkgcache', 'seedcache'] as const;

/** Catalyst 4's `catalyst.conf` (TOML), with only keys Catalyst 4 knows. */
export function renderCatalystConf(s: CatalystConfSettings): string {
  const conf: Record<string, unknown> = {
    digests: ['blake2b', 'sha512'],
    options: [...CATALYST_OPTIONS],
    storedir: s.storedir,
    distdir: s.distdir,
    repo_basedir: s.repoBasedir,
    ...(s.reposStoredir ? { repos_storedir: s.reposStoredir } : {}),
    jobs: s.jobs,
    'load-average': s.loadAverage,
  };
  return [
    '# Written by `bootstrap handoff`. Catalyst 4 reads this with `catalyst -c <this file>`.',
    '# No "bindist" option and no "binhost": a personal build, every package from source.',
    '',
    stringify(conf),
  ].join('\n');
}
