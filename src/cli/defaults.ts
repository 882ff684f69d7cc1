import { fileURLToPath } from 'node:url';

// Kept apart from engine-deps.ts so that loading a command's options stays cheap.
export const RECIPES_DIR = fileURLToPath(new URL('../../recipes/', import.meta.url));
export const DEFAULT_WORK = '/var/tmp/bootstrap';
/** The lock of the shipped recipes, at the top of the project. */
export const DEFAULT_LOCK = fileURLToPath(new URL('../../distfiles.lock', import.meta.url));
/** The store of verified distfiles a run uses with the default --work (`<work>/distfiles`); fetch and lock add fill it. */
export const DEFAULT_DISTDIR = `${DEFAULT_WORK}/distfiles`;
