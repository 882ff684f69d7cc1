import { fileURLToPath } from 'node:url';

// Kept apart from engine-deps.ts so that loading a command's options stays cheap.
export const RECIPES_DIR = fileURLToPath(new URL('../../recipes/', import.meta.url));
export const DEFAULT_WORK = '/var/tmp/bootstrap';
/** The lock of the shipped recipes, at the top of the project. */
export const DEFAULT_LOCK = fileURLToPath(new URL('../../distfiles.lock', import.meta.url));
