import { errnoCode, isBootstrapError } from '../util/errors.js';

/**
 * With --json, stdout always ends with one final line or document, also when the command fails
 * before or outside the run (a refused recipe, a missing lock): `make` builds it from the error.
 * The error is then reported on stderr as usual.
 */
export async function endJsonOnError<T>(json: boolean, make: (error: { code: string; message: string; hint?: string }) => unknown, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (json) {
      const described = isBootstrapError(error)
        ? { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
        : { code: errnoCode(error) ?? 'EINTERNAL', message: error instanceof Error ? error.message : String(error) };
      process.stdout.write(`${JSON.stringify(make(described))}\n`);
    }
    throw error;
  }
}
