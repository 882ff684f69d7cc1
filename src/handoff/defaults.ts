/**
 * Defaults shared by `bootstrap handoff`, the handoff step and handoff(): the places Catalyst and
 * a Gentoo system use unless told otherwise. No imports, so the CLI can load it statically.
 */
export const DEFAULT_STOREDIR = '/var/tmp/catalyst';
/** The folder under `builds/` the guide puts its seed in (`source_subpath: default/stage3-bootstrap`). */
export const DEFAULT_SEED_FOLDER = 'default';
export const DEFAULT_DISTDIR = '/var/cache/distfiles';
export const DEFAULT_REPO_BASEDIR = '/var/db/repos';
