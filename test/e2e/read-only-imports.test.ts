import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliPath, projectRoot, tempDir } from '../helpers/env.js';

/**
 * Read-only commands load no more than they use: `status`, `plan` and `why` plan the recipe (every
 * step kind's module is loaded for its schema and plan), but must not load the fetcher's HTTP
 * client, the process runner or the terminal view, which only a run uses. Checked on the files
 * each command actually resolves (an ESM resolve hook that logs every URL), with the gentoo-2025
 * recipe, which uses every step kind. The CLI runs as a bundle (bin/build.js): each file it loads
 * is a chunk, and dist/bundle/chunks.json (from the bundler's metafile) says which source files and packages each chunk holds.
 */
const RUN_ONLY = ['undici', 'execa', 'listr2'];
const BUNDLE = pathToFileURL(join(projectRoot, 'dist/bundle/')).href;
const chunkSources = JSON.parse(readFileSync(join(projectRoot, 'dist/bundle/chunks.json'), 'utf8')) as Record<string, string[]>;

const HOOK = `data:text/javascript,${encodeURIComponent(`
import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.BOOTSTRAP_TEST_MODULE_LOG, result.url + '\\\\n');
  return result;
}\`));
`)}`;

describe('read-only commands do not load what only a run needs (issue 15)', () => {
  let dir: { path: string; remove: () => void };
  beforeEach(() => {
    dir = tempDir('bootstrap-imports-');
  });
  afterEach(() => dir.remove());

  /** The packages and source files in the chunks the command loaded, the Node built-ins it imported, and its exit code. */
  function packagesLoaded(args: string[], cwd?: string): { packages: Set<string>; sources: string[]; builtins: Set<string>; exitCode: number } {
    const log = join(dir.path, `modules-${args[0]}.log`);
    writeFileSync(log, '');
    let exitCode = 0;
    try {
      execFileSync(process.execPath, ['--import', HOOK, cliPath, ...args], { env: { ...process.env, NO_COLOR: '1', CI: 'true', BOOTSTRAP_TEST_MODULE_LOG: log }, stdio: ['ignore', 'ignore', 'pipe'], ...(cwd ? { cwd } : {}) });
    } catch (error) {
      exitCode = (error as { status: number }).status;
    }
    const urls = readFileSync(log, 'utf8').split('\n');
    const chunks = urls.filter((u) => u.startsWith(BUNDLE));
    const builtins = new Set(urls.filter((u) => u.startsWith('node:')));
    expect(chunks.length, 'the CLI ran from its bundle').toBeGreaterThan(0);
    const sources = [...new Set(chunks.flatMap((u) => chunkSources[u.slice(BUNDLE.length)] ?? []))];
    const packages = new Set(sources.map((s) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(s)?.[1]).filter((p): p is string => p !== undefined));
    return { packages, sources, builtins, exitCode };
  }

  it('plan, status and why of the gentoo-2025 recipe load no undici, execa or listr2; a run-side command does (the hook sees them)', () => {
    const work = join(dir.path, 'work');
    const target = join(dir.path, 'target');
    mkdirSync(join(target, 'steps'), { recursive: true });
    mkdirSync(join(target, 'usr/libexec/gcc/i386-unknown-linux-musl'), { recursive: true });
    writeFileSync(join(target, 'steps/manifest'), '');
    const plan = packagesLoaded(['plan', '--recipe', 'gentoo-2025', '--work', work, '--target', target]);
    expect(plan.packages.has('zod')).toBe(true); // the hook saw the kinds' schemas being loaded
    for (const name of RUN_ONLY) expect(plan.packages.has(name), `plan loaded ${name}`).toBe(false);

    // A journal of a run that has started: status and why plan the recipe again to compare.
    // With --record, as the run is recorded to have been: the unpinned snapshot is then no refusal.
    const doc = JSON.parse(execFileSync(process.execPath, [cliPath, 'plan', '--recipe', 'gentoo-2025', '--record', '--work', work, '--target', target, '--json'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } })) as {
      recipe: Record<string, unknown>;
      parameters: Record<string, { value: string }>;
      phases: Array<{ steps: Array<{ id: string; fingerprint: string }> }>;
    };
    const steps = doc.phases.flatMap((p) => p.steps);
    const params = Object.fromEntries(Object.entries(doc.parameters).map(([k, v]) => [k, v.value]));
    const first = steps[0]!;
    mkdirSync(join(work, 'logs'), { recursive: true });
    const events = [
      { type: 'run-started', tool: 'bootstrap', journalVersion: 1, time: new Date().toISOString(), runId: 'imports', recipe: doc.recipe, params, given: { target }, steps: steps.map((s) => s.id), options: { record: true } },
      { type: 'step-started', time: '', step: first.id, attempt: 1, fingerprint: first.fingerprint, log: join(work, 'logs', first.id) },
      { type: 'step-finished', time: '', step: first.id, attempt: 1, fingerprint: first.fingerprint, durationMs: 1, log: join(work, 'logs', first.id), logDigest: '0', outcome: {} },
    ];
    writeFileSync(join(work, 'journal.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');

    const status = packagesLoaded(['status', '--work', work]);
    expect(status.exitCode).toBe(0);
    expect(status.packages.has('zod')).toBe(true);
    for (const name of RUN_ONLY) expect(status.packages.has(name), `status loaded ${name}`).toBe(false);
    // Only its own command file: the first argument names it.
    expect(status.sources.filter((s) => s.startsWith('src/cli/commands/'))).toEqual(['src/cli/commands/status.ts']);

    const why = packagesLoaded(['why', first.id, '--work', work]);
    expect(why.exitCode).toBe(0);
    for (const name of RUN_ONLY) expect(why.packages.has(name), `why loaded ${name}`).toBe(false);

    // The same hook does see them when a command needs them: fetch loads the HTTP client.
    const lock = join(dir.path, 'empty.lock');
    writeFileSync(lock, JSON.stringify({ lockfileVersion: 1, distfiles: {} }));
    const fetched = packagesLoaded(['fetch', '--lock', lock, '--dest', join(dir.path, 'store')]);
    expect(fetched.packages.has('undici')).toBe(true);
    expect(fetched.builtins.has('node:child_process'), 'the hook sees the built-ins a command imports').toBe(true);
    // Only the parts of undici the fetcher uses (src/distfiles/undici-parts.d.ts), not its index,
    // which loads all of undici and, through globalThis.Headers, Node's own copy as well.
    expect(fetched.sources).toContain('node_modules/undici/lib/dispatcher/agent.js');
    expect(fetched.sources).not.toContain('node_modules/undici/index.js');
    // Its terminal view only in a terminal: not on a pipe, as here.
    expect(fetched.packages.has('listr2'), 'fetch loaded listr2 without a terminal').toBe(false);
  });

  it('after a run, status, why and plan --work read the recipe the run kept, without loading the YAML parser or kinds the recipe does not use', () => {
    const recipeDir = join(dir.path, 'recipe');
    mkdirSync(recipeDir);
    writeFileSync(join(recipeDir, 'recipe.yaml'), ['name: kept', 'version: 1', 'description: d', 'phases:', '  - id: p', '    steps:', '      - { id: a, kind: run, root: host, script: "true" }', ''].join('\n'));
    const work = join(dir.path, 'work');
    execFileSync(process.execPath, [cliPath, 'run', '--recipe', recipeDir, '--work', work, '--plain'], { stdio: 'ignore', env: { ...process.env, NO_COLOR: '1', CI: 'true' } });
    for (const args of [['status', '--work', work], ['why', 'a', '--work', work], ['plan', '--recipe', recipeDir, '--work', work]]) {
      const loaded = packagesLoaded(args);
      expect(loaded.exitCode, args.join(' ')).toBe(0);
      expect(loaded.packages.has('yaml'), `${args[0]} loaded yaml`).toBe(false);
      // Nor any step kind but the one the recipe uses (each kind's module builds its schema).
      const kinds = loaded.sources.filter((s) => /^src\/steps\/[\w-]+\.ts$/.test(s) && !['src/steps/fields.ts', 'src/steps/failure-logs.ts'].includes(s));
      expect(kinds, args[0]).toEqual(['src/steps/run.ts']);
      // Nor node:child_process (only taking the work lock spawns), nor node:assert (the bundle
      // gives yargs bin/yargs-assert.js): 2 ms each to load.
      for (const builtin of ['node:child_process', 'node:assert']) expect(loaded.builtins.has(builtin), `${args[0]} loaded ${builtin}`).toBe(false);
    }
    // Before any run there is nothing kept: the hook sees the parser loaded.
    expect(packagesLoaded(['plan', '--recipe', recipeDir, '--work', join(dir.path, 'fresh')]).packages.has('yaml')).toBe(true);
  });

  it('audit --scan of one archive loads no zod (it checks no lock or journal), and no undici or listr2', () => {
    const file = join(dir.path, 'notes.txt');
    writeFileSync(file, 'plain text\n');
    // Run where no distfiles.lock lies: in this repository the audit would check the shipped lock too.
    const loaded = packagesLoaded(['audit', '--scan', file], dir.path);
    expect(loaded.exitCode).toBe(0);
    for (const name of ['zod', 'undici', 'listr2', 'yaml']) expect(loaded.packages.has(name), `audit --scan loaded ${name}`).toBe(false);
  });
});
