import { posix } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { distfileNameProblem } from './lock-schema.js';

/** One source of live-bootstrap: its file name, sha256 (hex), every URL in order, and the `sources` file that named it first. */
export interface LiveBootstrapSource {
  name: string;
  sha256: string;
  urls: string[];
  /** `steps/<pkg>/sources` */
  file: string;
}

/** Reads a file of the live-bootstrap tree by its path ('steps/manifest'); undefined when there is none. */
export type TreeReader = (path: string) => Promise<string | undefined>;

/**
 * The sources live-bootstrap 1.0 downloads, read as its own lib/generator.py
 * (`get_source_manifest`) reads them: every `build: <step>` line of steps/manifest, whatever
 * its condition, names steps/<step>/sources if that file exists; each of its lines is
 * `URL SHA256 [NAME]` split on single spaces, NAME defaulting to the URL's last path part.
 * live-bootstrap lists a file once per distinct (sha256, URL, name); here one entry per name
 * collects every URL in the order met, and a name given two hashes is an error.
 */
export async function readLiveBootstrapSources(read: TreeReader, where: string): Promise<LiveBootstrapSource[]> {
  const manifest = await read('steps/manifest');
  if (manifest === undefined) {
    throw new BootstrapError('ELBSOURCES', `${where}: steps/manifest is missing`, { hint: 'Give the top of a live-bootstrap checkout.' });
  }
  const byName = new Map<string, LiveBootstrapSource & { line: number }>();
  const steps: string[] = [];
  for (const line of manifest.split('\n')) {
    if (!line.trim().startsWith('build: ')) continue;
    const step = (line.split(' ')[1] ?? '').split('#')[0]!.trim();
    if (step && !steps.includes(step)) steps.push(step);
  }
  for (const step of steps) {
    const file = posix.join('steps', step, 'sources');
    const text = await read(file);
    if (text === undefined) continue;
    // Python's readlines(): a last line without a newline still counts, a final newline adds none.
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    lines.forEach((raw, index) => {
      const at = `${where}:${file}:${index + 1}`;
      const fields = raw.trim().split(' ');
      const [url, sha256, given] = fields;
      if (fields.length < 2 || fields.length > 3 || !url || !sha256) {
        throw new BootstrapError('ELBSOURCES', `${at}: expected "URL SHA256 [NAME]", found ${JSON.stringify(raw)}`);
      }
      if (!/^https?:\/\/\S+$/.test(url)) throw new BootstrapError('ELBSOURCES', `${at}: "${url}" is not an http(s) URL`);
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BootstrapError('ELBSOURCES', `${at}: "${sha256}" is not a sha256 in lowercase hex (64 digits)`);
      const name = given ?? posix.basename(url);
      const problem = distfileNameProblem(name);
      if (problem) throw new BootstrapError('ELBSOURCES', `${at}: file name "${name}" ${problem}`);
      const known = byName.get(name);
      if (!known) {
        byName.set(name, { name, sha256, urls: [url], file, line: index + 1 });
        return;
      }
      if (known.sha256 !== sha256) {
        throw new BootstrapError('ELBSOURCES', `${at}: ${name} has sha256 ${sha256}, but ${known.file}:${known.line} gives ${known.sha256}`, {
          hint: 'One name, one file: live-bootstrap would overwrite one with the other. Fix the sources files.',
        });
      }
      if (!known.urls.includes(url)) known.urls.push(url);
    });
  }
  return [...byName.values()].map(({ line: _line, ...source }) => source);
}
