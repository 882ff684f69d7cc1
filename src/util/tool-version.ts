import { readFileSync } from 'node:fs';

/**
 * bootstrap's version, from its package.json. The path holds from src/util/ (tests), dist/util/
 * (tsc) and dist/bundle/ (the CLI bundle): all two levels below the project.
 */
export function toolVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
