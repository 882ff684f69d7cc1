import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BootstrapError, errnoCode } from '../util/errors.js';

/** One line of a `steps/<pkg>/sources` file: `<url> <sha256> [<file name>]`. */
export interface SourceLine {
  url: string;
  sha256: string;
  name: string;
  /** The sources file, relative to the checkout, and its line number. */
  from: string;
}

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

/**
 * The sources rootfs.py wants before it builds anything, as its generator reads them: every
 * `build:` line of the manifest (whatever its predicate), each step's `sources` file if it has
 * one, duplicates left out.
 */
export async function manifestSources(checkout: string): Promise<SourceLine[]> {
  const manifest = await readFile(join(checkout, 'steps', 'manifest'), 'utf8');
  const seen = new Set<string>();
  const out: SourceLine[] = [];
  for (const line of manifest.split('\n')) {
    const match = /^build:\s+([^\s#]+)/.exec(line.trim());
    if (!match) continue;
    const file = join('steps', match[1]!, 'sources');
    let text: string;
    try {
      text = await readFile(join(checkout, file), 'utf8');
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') continue;
      throw error;
    }
    for (const [i, raw] of text.split('\n').entries()) {
      const words = raw.trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) continue;
      if (words.length < 2 || !/^[0-9a-f]{64}$/.test(words[1]!)) {
        throw new BootstrapError('ESOURCES', `${file}:${i + 1}: expected "<url> <sha256> [<file name>]", got ${JSON.stringify(raw.trim())}`);
      }
      const name = words[2] ?? words[0]!.split('/').pop()!;
      const key = `${name} ${words[1]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ url: words[0]!, sha256: words[1]!, name, from: `${file}:${i + 1}` });
    }
  }
  return out;
}
