#!/usr/bin/env node
// Builds dist/: TypeScript's output (dist/<concern>/*.js, which tests and benchmarks import),
// then the CLI as a bundle (dist/bundle/), which bin/bootstrap.js runs. Node 20 loads a command
// that spans some 400 small module files (ours, yargs, yaml, zod) in about twice the time it
// loads the same code as a few chunks (docs/performance.md), and `status` should cost little
// more than Node's own start-up. Also npm's "prepare": `npm install -g .` in a fresh clone links
// the folder without installing anything in it, so there is nothing to build with; say what to
// do instead of `tsc: not found`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
if (!existsSync(tsc) || !existsSync(fileURLToPath(new URL('../node_modules/esbuild/package.json', import.meta.url)))) {
  process.stderr.write(
    `bootstrap: cannot build ${project}dist: its dependencies are not installed there (TypeScript and esbuild are devDependencies).\n` +
      `Run \`npm ci\` in ${project} first (it installs them and builds), then \`npm install -g .\` again.\n`,
  );
  process.exit(1);
}
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: project, stdio: 'inherit' });

// Built beside the old bundle and swapped in, so that a CLI started during a rebuild finds
// one whole bundle or the other.
const bundle = fileURLToPath(new URL('../dist/bundle', import.meta.url));
// CommonJS dependencies (undici, ssri, write-file-atomic) use require() and __filename, which an
// ES module does not have. esbuild puts this line atop every chunk; it stays only in those that
// name either (5 of some 150), as each createRequire() costs start-up time.
const COMMONJS_BANNER = [
  "import { createRequire as __bootstrapRequire } from 'node:module';",
  "import { fileURLToPath as __bootstrapPath } from 'node:url';",
  'const require = __bootstrapRequire(import.meta.url);',
  'const __filename = __bootstrapPath(import.meta.url);',
].join(' ');
const outdir = `${bundle}.new-${process.pid}/`;
const { build } = await import('esbuild');
const lazyStringWidth = fileURLToPath(new URL('lazy-string-width.js', import.meta.url));
const yamlModule = `${project}node_modules/yaml/browser/index.js`;
const yargsAssert = fileURLToPath(new URL('yargs-assert.js', import.meta.url));
const yargsShim = `${project}node_modules/yargs/lib/platform-shims/`;
await build({
  absWorkingDir: project,
  entryPoints: ['src/cli/main.ts'],
  bundle: true,
  // One chunk per command (main.ts imports each with a literal import()), and shared chunks.
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Every chunk sits directly in dist/bundle/, two levels below the project like the modules
  // tsc writes, so `new URL('../../recipes/', import.meta.url)` finds the same folder from both.
  outdir,
  entryNames: '[name]',
  chunkNames: '[name]-[hash]',
  minify: true,
  sourcemap: 'linked',
  banner: { js: COMMONJS_BANNER },
  plugins: [
    {
      name: 'lazy-string-width',
      setup(b) {
        b.onResolve({ filter: /^string-width$/ }, (args) => (args.importer === lazyStringWidth ? undefined : { path: lazyStringWidth }));
      },
    },
    {
      // yaml's ES module build, which its package.json offers every platform but Node: the same
      // code as the CommonJS one Node gets, which esbuild must wrap module by module and cannot
      // trim. Only yaml's debug switches differ (LOG_TOKENS, LOG_STREAM in the environment), and
      // where a warning goes for parse(), which bootstrap does not call.
      name: 'yaml-es-module',
      setup(b) {
        b.onResolve({ filter: /^yaml$/ }, () => ({ path: yamlModule }));
      },
    },
    {
      // Only yargs' own import: undici and the rest keep node:assert.
      name: 'yargs-assert',
      setup(b) {
        b.onResolve({ filter: /^(node:)?assert$/ }, (args) => (args.importer.startsWith(yargsShim) ? { path: yargsAssert } : undefined));
      },
    },
  ],
  metafile: true,
  logLevel: 'warning',
}).then((result) => {
  // Which source files each chunk holds, by file name: test/e2e/read-only-imports.test.ts reads it.
  const chunks = Object.fromEntries(
    Object.entries(result.metafile.outputs)
      .filter(([file]) => file.endsWith('.js'))
      .map(([file, output]) => [file.split('/').pop(), Object.keys(output.inputs)]),
  );
  writeFileSync(`${outdir}chunks.json`, JSON.stringify(chunks));
  for (const file of Object.keys(chunks)) {
    const text = readFileSync(`${outdir}${file}`, 'utf8');
    const body = text.slice(COMMONJS_BANNER.length);
    // Emptied, not removed, so that the source map's lines still match. The test is loose on
    // purpose: a property or string named require keeps the line too.
    if (text.startsWith(COMMONJS_BANNER) && !/\brequire\b|\b__filename\b/.test(body)) writeFileSync(`${outdir}${file}`, body);
  }
});
const old = `${bundle}.old-${process.pid}`;
if (existsSync(bundle)) renameSync(bundle, old);
renameSync(outdir, bundle);
rmSync(old, { recursive: true, force: true });
