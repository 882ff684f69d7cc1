import type { Argv, CommandModule } from 'yargs';
import { DEFAULT_DISTDIR, DEFAULT_LOCK } from '../defaults.js';

const lockOption = <T>(yargs: Argv<T>) => yargs.option('lock', { type: 'string', default: DEFAULT_LOCK, describe: 'The lock file (the project\'s, which run uses)' });
const jsonOption = <T>(yargs: Argv<T>) => yargs.option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' });

const verify: CommandModule<object, { lock: string; dest?: string; json: boolean }> = {
  command: 'verify',
  describe: 'Check the lock (schema, digests) and, with --dest, every file present there against its entry',
  builder: (yargs) => jsonOption(lockOption(yargs)).option('dest', { type: 'string', describe: 'A directory of distfiles to hash and compare' }),
  handler: async (args) => {
    const { resolve } = await import('node:path');
    const kleur = (await import('kleur')).default;
    const { verifyLock } = await import('../../distfiles/verify-lock.js');
    const report = await verifyLock(resolve(args.lock), args.dest === undefined ? undefined : resolve(args.dest));
    const bad = report.files?.filter((f) => f.status === 'mismatch') ?? [];
    if (bad.length > 0) process.exitCode = 1;
    if (args.json) {
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const out: string[] = [`${args.lock}: valid, ${report.entries} entries, ${report.pinned.length} pinned`];
    if (report.unpinned.length > 0) out.push(`${kleur.yellow('unpinned')} (fetched only with --pin): ${report.unpinned.join(', ')}`);
    for (const file of report.files ?? []) {
      const label = file.status === 'ok' ? kleur.green('ok') : file.status === 'mismatch' ? kleur.red('MISMATCH') : file.status === 'not-hashed' ? kleur.cyan(file.status) : kleur.yellow(file.status);
      out.push(`${label} ${file.name}${file.detail ? `: ${file.detail}` : ''}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  },
};

interface AddArgs {
  lock: string;
  url: string;
  name?: string;
  kind: 'source' | 'repo-snapshot' | 'seed';
  from?: string;
  dest: string;
  json: boolean;
}

const add: CommandModule<object, AddArgs> = {
  command: 'add <url>',
  describe: 'Download URL, hash it (sha512 and blake2b512) and add a pinned entry to the lock',
  builder: (yargs) =>
    jsonOption(lockOption(yargs))
      .positional('url', { type: 'string', demandOption: true, describe: 'http(s) URL of the file' })
      .option('name', { type: 'string', describe: 'File name (default: the last part of the URL path)' })
      .option('kind', { choices: ['source', 'repo-snapshot', 'seed'] as const, default: 'source' as const })
      .option('from', { type: 'string', describe: 'Where the hash comes from (default: fetched from URL, trust on first use)' })
      .option('dest', { type: 'string', default: DEFAULT_DISTDIR, describe: 'Store the verified file here (the store run uses with the default --work)' }),
  handler: async (args) => {
    const { resolve } = await import('node:path');
    const { addEntry } = await import('../../distfiles/add-entry.js');
    const { withFetchProgress } = await import('../../distfiles/progress.js');
    const result = await withFetchProgress(1, { quiet: args.json }, (onProgress) =>
      addEntry({ lockPath: resolve(args.lock), url: args.url, name: args.name, kind: args.kind, from: args.from, storeDir: resolve(args.dest), onProgress }),
    );
    if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else process.stdout.write(`added ${result.name}: ${result.entry.size} bytes, ${result.entry.integrity}\n`);
  },
};

interface ImportArgs {
  lock: string;
  manifest: string;
  from?: string;
  url?: string;
  json: boolean;
}

const importManifestCommand: CommandModule<object, ImportArgs> = {
  command: 'import-manifest <manifest>',
  describe: "Pin entries from a Gentoo Manifest's DIST lines, or check pinned ones against it",
  builder: (yargs) =>
    jsonOption(lockOption(yargs))
      .positional('manifest', { type: 'string', demandOption: true, describe: 'A Gentoo Manifest file' })
      .option('from', { type: 'string', describe: 'Text for the entries\' "from" (default: gentoo Manifest <category>/<package>)' })
      .option('url', { type: 'string', describe: 'Add files the lock lacks, with URL <url>/<file>' }),
  handler: async (args) => {
    const { resolve } = await import('node:path');
    const { importManifest } = await import('../../distfiles/import-manifest.js');
    const outcomes = await importManifest({ lockPath: resolve(args.lock), manifestPath: resolve(args.manifest), from: args.from, urlBase: args.url });
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ outcomes }, null, 2)}\n`);
      return;
    }
    for (const o of outcomes) process.stdout.write(`${o.status} ${o.name}${o.detail ? ` (${o.detail})` : ''}\n`);
  },
};

interface ImportLiveBootstrapArgs {
  lock: string;
  checkout: string;
  url?: string;
  json: boolean;
}

const importLiveBootstrapCommand: CommandModule<object, ImportLiveBootstrapArgs> = {
  command: 'import-live-bootstrap <checkout>',
  describe: 'Pin live-bootstrap from a git checkout: itself and its submodules by commit, its x86 seeds, and every source its manifest names (sha256, all URLs)',
  builder: (yargs) =>
    jsonOption(lockOption(yargs))
      .positional('checkout', { type: 'string', demandOption: true, describe: 'The top of a live-bootstrap git checkout with its submodules (git clone -b 1.0 --recursive)' })
      .option('url', { type: 'string', describe: "The superproject's git URL (default: the checkout's remote.origin.url)" }),
  handler: async (args) => {
    const { resolve } = await import('node:path');
    const { importLiveBootstrap } = await import('../../distfiles/live-bootstrap-import.js');
    const result = await importLiveBootstrap({ lockPath: resolve(args.lock), checkout: resolve(args.checkout), url: args.url });
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const count = (status: string) => result.entries.filter((e) => e.status === status).length;
    const kinds = (['repo-snapshot', 'seed', 'source'] as const).map((k) => `${result.entries.filter((e) => e.kind === k).length} ${k}`).join(', ');
    const out = [`live-bootstrap ${result.commit}: ${result.entries.length} entries (${kinds}); ${count('added')} added, ${count('updated')} given more URLs or an allow-list, ${count('unchanged')} unchanged`];
    for (const path of result.unread) out.push(`not checked out: ${path} (pinned from its gitlink; submodules of its own, if any, were not read)`);
    process.stdout.write(`${out.join('\n')}\n`);
  },
};

export const command: CommandModule = {
  command: 'lock <command>',
  describe: 'Check and extend distfiles.lock',
  builder: (yargs) =>
    yargs
      .command(verify as unknown as CommandModule)
      .command(add as unknown as CommandModule)
      .command(importManifestCommand as unknown as CommandModule)
      .command(importLiveBootstrapCommand as unknown as CommandModule)
      .demandCommand(1, 'Name a lock command: verify, add, import-manifest or import-live-bootstrap.'),
  handler: () => undefined,
};
