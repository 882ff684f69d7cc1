import { availableParallelism } from 'node:os';
import { BootstrapError } from '../util/errors.js';

export type Compression = 'xz' | 'zstd' | 'none';
const COMPRESSIONS: readonly Compression[] = ['xz', 'zstd', 'none'];

/**
 * File name endings Catalyst detects each compression by. Only the `.tar.*` forms: they are
 * what `bootstrap handoff` (src/handoff/names.ts) accepts as a seed, so a packed seed can
 * always be handed off.
 */
const SUFFIXES: Record<Compression, string[]> = {
  xz: ['.tar.xz'],
  zstd: ['.tar.zst'],
  none: ['.tar'],
};

/**
 * The compression an output name calls for: `compress` when given (it must agree with the name,
 * since Catalyst picks the decompressor from the suffix), else the one the suffix names.
 */
export function compressionFor(out: string, compress?: string, field = '--compress', outField = '--out'): Compression {
  const bySuffix = COMPRESSIONS.find((c) => SUFFIXES[c].some((s) => out.endsWith(s)));
  if (compress !== undefined && !COMPRESSIONS.includes(compress as Compression)) {
    throw new BootstrapError('EPACK_COMPRESS', `${field}: unknown compression ${JSON.stringify(compress)}`, {
      expected: COMPRESSIONS.join(', '),
      found: compress,
      hint: 'Use xz (the default, what Gentoo ships), zstd or none.',
    });
  }
  const chosen = (compress as Compression | undefined) ?? bySuffix;
  if (chosen === undefined) {
    throw new BootstrapError('EPACK_SUFFIX', `${outField} ${out}: the name does not say the compression`, {
      expected: `a name ending in ${Object.values(SUFFIXES).flat().join(', ')}`,
      found: out,
      hint: 'Catalyst chooses the decompressor by the file name: name the output e.g. stage3-bootstrap.tar.xz.',
    });
  }
  if (bySuffix !== chosen) {
    throw new BootstrapError('EPACK_SUFFIX', `${outField} ${out}: ${field} ${chosen} needs a name ending in ${SUFFIXES[chosen].join(' or ')}`, {
      hint: `Catalyst chooses the decompressor by the file name: rename the output (e.g. stage3-bootstrap${SUFFIXES[chosen][0]}) or change ${field}.`,
    });
  }
  return chosen;
}

/** The epoch must be whole seconds since 1970 that tar and a pax header can carry. */
export function checkEpoch(epoch: number | undefined, field = '--epoch'): void {
  if (epoch === undefined) return;
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new BootstrapError('EPACK_EPOCH', `${field}: ${epoch} is not a whole number of seconds since 1970`, {
      hint: 'Give e.g. --epoch 1735689600, or leave it out to keep the files\' own times.',
    });
  }
}

/** The latest mtime a tar header's own field holds (11 octal digits of seconds: 2242). */
export const USTAR_MTIME_MAX = 8 ** 11 - 1;

/**
 * GNU tar options that make the archive a function of the tree alone: names sorted bytewise;
 * POSIX (pax) format with the per-process header names and atime/ctime removed, and mtimes to
 * the second in the header's own field, as ustar and GNU tar's default format keep them, unless
 * `preciseMtimes` (a pax record of its mtime for every member: one more 1 KiB header each, some
 * 5 % more for xz to compress). Only a tree with an mtime that field cannot hold needs that
 * (packStage finds out): without the record GNU tar writes such an mtime as 1970, silently. Numeric ids with
 * no user or group names (the seed's /etc/passwd is what counts, not the host's); the xattrs
 * Catalyst restores (`security.capability`, `user.pax.flags`) plus the rest of the `user.`
 * namespace the tree's owner set, but not `security.selinux`/`security.ima` labels the host
 * applied; no ACLs, which Catalyst does not extract. `--one-file-system` keeps mounts inside the
 * tree (proc, dev, a tmpfs) out. With an epoch, newer mtimes are clamped to it, older ones kept.
 */
export function tarCreateArgs(options: { excludes: readonly string[]; epoch?: number; preciseMtimes?: boolean }): string[] {
  return [
    '--create',
    '--sort=name',
    '--format=posix',
    `--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime${options.preciseMtimes ? '' : ',delete=mtime'}`,
    '--numeric-owner',
    '--xattrs',
    '--xattrs-include=security.capability',
    '--xattrs-include=user.*',
    '--no-acls',
    '--no-selinux',
    '--one-file-system',
    ...(options.epoch === undefined ? [] : [`--mtime=@${options.epoch}`, '--clamp-mtime']),
    // Position matters: these apply to the --exclude options that follow.
    '--anchored',
    '--wildcards',
    '--wildcards-match-slash',
    ...options.excludes.map((p) => `--exclude=${p}`),
  ];
}

export interface Compressor {
  tool: 'xz' | 'zstd';
  args: string[];
}

/**
 * xz in multi-threaded mode gives the same bytes for any thread count (blocks of a fixed size
 * are compressed independently), but `-T1` selects the single-threaded encoder whose output
 * differs, and xz 5.2 does the same for `-T0` on a one-core machine. So the thread count is
 * always spelled out and at least 2, and the block size is pinned rather than left to the
 * preset's default. zstd's output is the same for every `-T` (only `--single-thread` differs).
 */
export function compressor(compression: Compression): Compressor | undefined {
  // Capped because each xz thread holds about 100 MiB; the cap does not change the bytes.
  const threads = Math.min(16, Math.max(2, availableParallelism()));
  switch (compression) {
    case 'xz':
      return { tool: 'xz', args: ['-6', `--threads=${threads}`, '--block-size=24MiB', '--no-adjust', '--stdout', '-'] };
    case 'zstd':
      return { tool: 'zstd', args: ['-19', `-T${threads}`, '--no-progress', '-q', '--stdout', '-'] };
    case 'none':
      return undefined;
  }
}

/**
 * Tools run with this environment only, so that a user's TAR_OPTIONS, XZ_OPT, XZ_DEFAULTS,
 * ZSTD_CLEVEL or locale cannot change the bytes, and listings print times in UTC.
 */
export function toolEnv(): Record<string, string> {
  return { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', TZ: 'UTC' };
}
