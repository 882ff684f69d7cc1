import { fileURLToPath } from 'node:url';

// Kept apart from engine-deps.ts so that loading a command's options stays cheap.
export const RECIPES_DIR = fileURLToPath(new URL('../../recipes/', import.meta.url));
export const DEFAULT_WORK = '/var/tmp/bootstrap';
