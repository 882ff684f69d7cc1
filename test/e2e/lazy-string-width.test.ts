import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import stringWidth from 'string-width';
import { cliPath, projectRoot, tempDir } from '../helpers/env.js';

/**
 * The bundle replaces string-width with bin/lazy-string-width.js (bin/build.js): the real one
 * builds an Intl.Segmenter and Unicode regular expressions when imported, a quarter of a short
 * command's time. Checked: the CLI builds no Segmenter for its ASCII help, and the replacement
 * gives the real widths for text that is not ASCII (by loading the real one, then).
 */
// Counts the Intl.Segmenters built and prints the count on stderr as the process exits.
const COUNT_SEGMENTERS = `data:text/javascript,${encodeURIComponent(`
let built = 0;
const Real = Intl.Segmenter;
Intl.Segmenter = class extends Real { constructor(...a) { super(...a); built++; } };
process.on('exit', () => process.stderr.write('segmenters=' + built + '\\n'));
`)}`;

/** What the command printed, and how many Segmenters it built. */
function run(args: string[]): { built: number; stdout: string } {
  const result = spawnSync(process.execPath, ['--import', COUNT_SEGMENTERS, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(result.status, result.stderr).toBe(0);
  return { built: Number(/segmenters=(\d+)/.exec(result.stderr)?.[1]), stdout: result.stdout };
}

describe('string-width in the bundle (issue 15)', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-string-width-');
  });
  afterEach(() => dir.remove());

  it('the CLI lays out its help without building an Intl.Segmenter', () => {
    const help = run([cliPath, 'status', '--help']);
    expect(help.stdout).toContain('--work');
    expect(help.built).toBe(0);
    expect(run([cliPath, '--version']).built).toBe(0);
  });

  it('the replacement measures any text as string-width does, loading the real one only for text that is not ASCII', async () => {
    const { build } = await import('esbuild');
    const replacement = join(projectRoot, 'bin/lazy-string-width.js');
    const samples = ['', 'plain ASCII text', 'tab\there', '漢字', 'e\u0301', '👍🏽', '\u001b[31mred\u001b[39m', 'Zürich'];
    const entry = join(dir.path, 'entry.js');
    writeFileSync(
      entry,
      `import width from 'string-width';
const samples = ${JSON.stringify(samples)};
const ascii = width(samples[1]);
process.stdout.write(JSON.stringify({ ascii, widths: samples.map((s) => width(s)) }));\n`,
    );
    const bundle = join(dir.path, 'bundle.js');
    await build({
      entryPoints: [entry],
      nodePaths: [join(projectRoot, 'node_modules')],
      bundle: true,
      format: 'esm',
      platform: 'node',
      outfile: bundle,
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      plugins: [{ name: 'lazy-string-width', setup: (b) => b.onResolve({ filter: /^string-width$/ }, (args) => (args.importer === replacement ? undefined : { path: replacement })) }],
      logLevel: 'warning',
    });
    const result = run([bundle]);
    const { ascii, widths } = JSON.parse(result.stdout) as { ascii: number; widths: number[] };
    expect(ascii).toBe(16);
    expect(widths).toEqual(samples.map((s) => stringWidth(s)));
    expect(widths[3]).toBe(4); // two wide characters
    expect(result.built).toBe(1); // the real one, loaded for the first text that is not ASCII
  });
});
