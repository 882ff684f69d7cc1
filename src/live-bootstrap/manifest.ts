import { BootstrapError } from '../util/errors.js';

/**
 * The manifest with every line from `stopBefore` (a whole line, e.g. `build: mes-0.26.1`) on
 * removed: live-bootstrap then builds only what comes before it. Undefined: unchanged.
 */
export function cutManifest(text: string, stopBefore: string | undefined, where: string): string {
  if (stopBefore === undefined) return text;
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.trim() === stopBefore.trim());
  if (at < 0) {
    throw new BootstrapError('EMANIFESTCUT', `${where} has no line "${stopBefore}" to stop before`, {
      hint: 'Give stop_before a whole line of steps/manifest, e.g. "build: mes-0.26.1".',
    });
  }
  return `${lines.slice(0, at).join('\n')}\n`;
}
