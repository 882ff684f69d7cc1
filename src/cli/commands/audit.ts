import type { CommandModule } from 'yargs';

export const command: CommandModule = {
  command: 'audit',
  describe: 'Check that every input is pinned and source, that a run is what its provenance says, and that a stage has no binary packages (no root needed)',
  builder: (y) =>
    y
      .option('lock', { type: 'string', describe: 'The lock file (default: distfiles.lock in the current directory)' })
      .option('distdir', { type: 'string', describe: 'Verify and scan the distfiles in this directory' })
      .option('target', { type: 'string', describe: "Audit this live-bootstrap output against the lock: its sources, its packages against SHA256SUMS.pkgs (read from the lock's live-bootstrap in --distdir)" })
      .option('work', { type: 'string', describe: "Audit the run in this work directory: journal, distfiles used, provenance" })
      .option('stage', { type: 'string', describe: 'Audit this seed stage3: digests, provenance subject, var/db/pkg' })
      .option('pkgdir', { type: 'string', array: true, describe: 'Check this folder of built packages against its index and say which run of --work built each (repeatable)' })
      .option('provenance', { type: 'string', describe: 'The provenance document (default: the one the run wrote / beside the stage)' })
      .option('scan', { type: 'string', array: true, describe: 'Also scan these files for prebuilt binaries (repeatable)' })
      .option('max-depth', { type: 'number', describe: 'How many levels of archives inside archives to open' })
      .option('strict', { type: 'boolean', default: false, describe: 'Unpinned entries, http-only URLs and unscanned members fail instead of warn' })
      .option('verbose', { type: 'boolean', default: false, describe: 'List passing checks too' })
      .option('json', { type: 'boolean', default: false, describe: 'One JSON document on stdout' }),
  handler: async (argv) => {
    const { BootstrapError } = await import('../../util/errors.js');
    const { runAudit } = await import('../../audit/audit.js');
    const maxDepth = argv['max-depth'] === undefined ? undefined : Number(argv['max-depth']);
    if (maxDepth !== undefined && (!Number.isInteger(maxDepth) || maxDepth < 0)) {
      throw new BootstrapError('EUSAGE', `--max-depth ${String(argv['max-depth'])}: expected a whole number, 0 or more`);
    }
    const str = (key: string) => (typeof argv[key] === 'string' ? (argv[key] as string) : undefined);
    const report = await runAudit({
      lockPath: str('lock') ?? 'distfiles.lock',
      lockGiven: str('lock') !== undefined,
      distdir: str('distdir'),
      targetDir: str('target'),
      workDir: str('work'),
      stagePath: str('stage'),
      provenancePath: str('provenance'),
      scan: (argv.scan as string[] | undefined)?.map(String),
      pkgdirs: (argv.pkgdir as string[] | undefined)?.map(String),
      strict: Boolean(argv.strict),
      ...(maxDepth !== undefined ? { maxDepth } : {}),
    });
    const failed = report.summary.fail > 0;
    if (argv.json) process.stdout.write(`${JSON.stringify({ ok: !failed, ...report }, null, 2)}\n`);
    else {
      const { renderAuditText } = await import('../../audit/render.js');
      process.stdout.write(renderAuditText(report, { verbose: Boolean(argv.verbose) }));
    }
    if (failed) process.exitCode = 1;
  },
};
