import { BootstrapError } from '../util/errors.js';

/**
 * Names that end up in spec files, file names and command lines. Catalyst splits spec values on
 * whitespace and treats `#`, `:` and `%` specially, and `version_stamp` becomes part of a path,
 * so anything user-supplied is held to a conservative alphabet.
 */
const SAFE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function checkSafeName(field: string, value: string, hint?: string): string {
  if (!SAFE.test(value) || value.includes('..')) {
    throw new BootstrapError('EHANDOFF_UNSAFE_VALUE', `${field} ${JSON.stringify(value)} has characters Catalyst or a file name cannot take`, {
      expected: 'letters, digits, ".", "_" and "-", starting with a letter or digit, no ".."',
      found: value,
      hint: hint ?? `Choose a ${field} made of [A-Za-z0-9._-] only.`,
    });
  }
  return value;
}

export interface ParsedProfile {
  /** The whole profile path, relative to `profiles/`. */
  path: string;
  arch: string;
  version: string;
  /** What follows the version (`systemd`, `desktop/systemd`), empty for the plain profile. */
  flavour: string[];
}

const PROFILE = /^default\/linux\/([a-z0-9_]+)\/(\d+\.\d+)((?:\/[A-Za-z0-9_.+-]+)*)$/;

/** Accepts the `default/linux/<arch>/<version>[/...]` profiles that releng's specs use. */
export function parseProfile(profile: string): ParsedProfile {
  const m = PROFILE.exec(profile);
  if (!m) {
    throw new BootstrapError('EHANDOFF_PROFILE', `profile ${JSON.stringify(profile)} is not a Gentoo profile path Catalyst's releng specs use`, {
      expected: 'default/linux/<arch>/<version>[/<flavour>...], e.g. default/linux/amd64/23.0/systemd',
      found: profile,
      hint: 'Pass --profile as a path relative to the Gentoo repository\'s profiles/ folder.',
    });
  }
  const flavour = m[3] ? m[3].slice(1).split('/') : [];
  if (flavour.some((part) => part === '.' || part === '..')) {
    throw new BootstrapError('EHANDOFF_PROFILE', `profile ${JSON.stringify(profile)} contains "." or ".." components`, {
      hint: 'Name the profile directly, without relative components.',
    });
  }
  return { path: profile, arch: m[1]!, version: m[2]!, flavour };
}

export type Compression = 'xz' | 'zstd' | 'bzip2' | 'gzip' | 'none';

/** The suffixes Catalyst recognises for a seed, longest first so `.tar` matches last. */
const SEED_SUFFIXES: ReadonlyArray<{ suffix: string; compression: Compression }> = [
  { suffix: '.tar.xz', compression: 'xz' },
  { suffix: '.tar.zst', compression: 'zstd' },
  { suffix: '.tar.bz2', compression: 'bzip2' },
  { suffix: '.tar.gz', compression: 'gzip' },
  { suffix: '.tar', compression: 'none' },
];

export interface SeedName {
  /** File name as given, e.g. `stage3-bootstrap.tar.xz`. */
  fileName: string;
  /** Name without the archive suffix: what `source_subpath` names. */
  stem: string;
  suffix: string;
  compression: Compression;
}

export function parseSeedName(fileName: string, where: string): SeedName {
  const match = SEED_SUFFIXES.find((s) => fileName.endsWith(s.suffix) && fileName.length > s.suffix.length);
  if (!match) {
    throw new BootstrapError('EHANDOFF_SEED_NOT_TAR', `${where}: the seed's name does not end in a tar suffix Catalyst recognises`, {
      expected: SEED_SUFFIXES.map((s) => s.suffix).join(', '),
      found: fileName,
      hint: 'Catalyst picks the decompressor from the file suffix; pack the seed with `bootstrap pack`, or rename it to match its compression.',
    });
  }
  const stem = fileName.slice(0, -match.suffix.length);
  checkSafeName('seed file name', stem, 'Rename the seed to [A-Za-z0-9._-] followed by its tar suffix, e.g. stage3-bootstrap.tar.xz.');
  return { fileName, stem, suffix: match.suffix, compression: match.compression };
}
