/**
 * Defaults shared by `bootstrap handoff`, the handoff step and handoff(): the places Catalyst and
 * a Gentoo system use unless told otherwise. No imports, so the CLI can load it statically.
 */
export const DEFAULT_STOREDIR = '/var/tmp/catalyst';
export const DEFAULT_REL_TYPE = 'default';
export const DEFAULT_PROFILE = 'default/linux/amd64/23.0';
export const DEFAULT_SUBARCH = 'amd64';
export const DEFAULT_DISTDIR = '/var/cache/distfiles';
export const DEFAULT_REPO_BASEDIR = '/var/db/repos';
