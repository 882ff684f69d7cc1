import type { Argv, CommandModule } from 'yargs';

const pkgdirOptions = (y: Argv, work: string) =>
  y
    .option('pkgdir', { type: 'string', describe: 'The package folder, with its index' })
    .option('work', { type: 'string', describe: work })
    .option('root', { type: 'string', describe: "With --work and no --pkgdir: which of the run's package folders (ROOT, or ROOT:PKGDIR for one only some steps use); default: the only one with packages" });

/**
 * --pkgdir as given, or the package folder of the run in --work that --root names (else its only
 * one with packages), saying on stderr which one that is.
 */
async function packageFolder(argv: Record<string, unknown>): Promise<string> {
  const { BootstrapError } = await import('../../util/errors.js');
  if (argv.pkgdir !== undefined) {
    if (argv.root !== undefined) throw new BootstrapError('EUSAGE', '--root chooses among the package folders of the run in --work; it does not go with --pkgdir', { hint: 'Give --pkgdir DIR, or --work W with --root NAME.' });
    return String(argv.pkgdir);
  }
  if (argv.work === undefined) throw new BootstrapError('EUSAGE', 'which package folder? Give --pkgdir DIR, or --work W for the run in W', { hint: 'With --work, --root NAME chooses when the run has packages in several folders.' });
  const { engineDeps, kindOptions, recordedOptions } = await import('../engine-deps.js');
  const { runPackageFolder } = await import('../../binhost/run-pkgdirs.js');
  const work = String(argv.work);
  const { chosen, note } = await runPackageFolder(work, engineDeps(kindOptions({ work }, recordedOptions(work))), argv.root === undefined ? undefined : String(argv.root));
  process.stderr.write(`${note}\n`);
  return chosen.path;
}

const serve: CommandModule = {
  command: 'serve',
  describe: 'Check the package index against its files, then serve the folder read-only over HTTP and print the client configuration',
  builder: (y) =>
    pkgdirOptions(y, "Serve a package folder of the run in this work directory (see --root)")
      .option('bind', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on; anything but loopback is warned about' })
      .option('port', { type: 'number', default: 0, describe: 'Port to listen on (0: a free one, printed)' })
      .option('url', { type: 'string', describe: 'The URL clients use, when not the bound address (a tunnel, a DNS name)' })
      .option('name', { type: 'string', default: 'bootstrap-binhost', describe: 'The repository name in the printed configuration' })
      .option('priority', { type: 'number', default: 10, describe: 'The priority in the printed configuration' })
      .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'No line per request' }),
  handler: async (argv) => {
    const { BootstrapError } = await import('../../util/errors.js');
    const { checkRepoName } = await import('../../binhost/binrepos-conf.js');
    const { serveBinhost } = await import('../../binhost/serve.js');
    const nameProblem = checkRepoName(String(argv.name));
    if (nameProblem) throw new BootstrapError('EUSAGE', `--name ${nameProblem}`);
    const port = Number(argv.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new BootstrapError('EUSAGE', `--port ${String(argv.port)}: expected a whole number from 0 to 65535`);
    if (argv.pkgdir !== undefined && argv.work !== undefined) throw new BootstrapError('EUSAGE', 'give --pkgdir DIR or --work W, not both: serve serves one folder', { hint: '`binhost check --pkgdir DIR --work W` says which step of the run built each package.' });
    const pkgdir = await packageFolder(argv);
    const binhost = await serveBinhost(
      {
        pkgdir,
        host: String(argv.bind),
        port,
        name: String(argv.name),
        priority: Number(argv.priority),
        ...(argv.url !== undefined ? { url: String(argv.url) } : {}),
      },
      {
        warn: (text) => process.stderr.write(`${text}\n`),
        ...(argv.quiet ? {} : { access: (r) => process.stderr.write(`${r.remote} ${r.method} ${r.path} ${r.status} ${r.bytes}\n`) }),
      },
    );
    process.stderr.write(`checked ${binhost.verdict.checks.length} packages against ${binhost.verdict.index.file}: all match; serving ${binhost.url} (Ctrl-C stops)\n`);
    process.stdout.write(`# /etc/portage/binrepos.conf on the target (then: emerge --getbinpkgonly ATOM...)\n${binhost.conf}`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await binhost.server.close();
  },
};

const check: CommandModule = {
  command: 'check',
  describe: 'Check the package index against its files (size and listed hashes), and list the packages with their digests',
  builder: (y) =>
    pkgdirOptions(y, 'Say which step of the run in this work directory built each package; without --pkgdir, check a package folder of that run (see --root)')
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' }),
  handler: async (argv) => {
    const { checkPkgdir } = await import('../../binhost/check.js');
    process.exitCode = await checkPkgdir(await packageFolder(argv), {
      json: Boolean(argv.json),
      ...(argv.work !== undefined ? { workDir: String(argv.work) } : {}),
      write: (text) => process.stdout.write(text),
    });
  },
};

const sync: CommandModule = {
  command: 'sync [args..]',
  describe: "Build packages in the binhost environment and install them on a target from it, after giving the target the environment's configuration (arguments after --)",
  builder: (y) =>
    y
      .positional('args', { type: 'string', array: true, describe: 'Atoms and options for both sides, after --' })
      .option('binhost-root', { type: 'string', demandOption: true, describe: "The environment that builds the packages, with the target's configuration" })
      .option('pkgdir', { type: 'string', describe: 'Where the packages go (default: <binhost-root>/var/cache/binpkgs)' })
      .option('target-root', { type: 'string', describe: 'A target on this machine, as a folder' })
      .option('ssh', { type: 'string', describe: 'A target over ssh, as USER@HOST' })
      .option('emerge', { type: 'string', default: 'emerge', describe: 'The package manager command on this machine' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only print the commands' })
      .parserConfiguration({ 'populate--': true }),
  handler: async (argv) => {
    const { runSync } = await import('../../binhost/sync.js');
    const str = (key: string) => (argv[key] === undefined ? undefined : String(argv[key]));
    const args = [...((argv.args as string[] | undefined) ?? []), ...((argv['--'] as string[] | undefined) ?? [])].map(String);
    process.exitCode = await runSync(
      {
        binhostRoot: String(argv['binhost-root']),
        emerge: String(argv.emerge),
        args,
        dryRun: Boolean(argv['dry-run']),
        ...(str('pkgdir') !== undefined ? { pkgdir: str('pkgdir')! } : {}),
        ...(str('target-root') !== undefined ? { targetRoot: str('target-root')! } : {}),
        ...(str('ssh') !== undefined ? { ssh: str('ssh')! } : {}),
      },
      (text) => process.stderr.write(`${text}\n`),
    );
  },
};

export const command: CommandModule = {
  command: 'binhost',
  describe: 'Share a folder of built packages with other machines: check it, serve it over HTTP, keep a target in sync with it',
  builder: (y) => y.command(serve).command(check).command(sync).demandCommand(1, 'Name an action: serve, check or sync.'),
  handler: () => {},
};
