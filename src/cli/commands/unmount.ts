import type { CommandModule } from 'yargs';

export const command: CommandModule = {
  command: 'unmount',
  describe: 'Remove mounts below a target directory (only there), deepest first, by absolute path',
  builder: (y) =>
    y
      .option('target', { type: 'string', demandOption: true, describe: 'The directory whose mounts to remove (the target itself stays)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Only list what would be unmounted' }),
  handler: async (argv) => {
    const { unmountUnder } = await import('../../host/unmount.js');
    const report = await unmountUnder(String(argv.target), { dryRun: Boolean(argv['dry-run']) });
    const verb = argv['dry-run'] ? 'would unmount' : 'unmounted';
    for (const path of report.unmounted) process.stdout.write(`${verb} ${path}\n`);
    for (const f of report.failed) process.stderr.write(`could not unmount ${f.path}: ${f.error}\n`);
    if (report.unmounted.length === 0 && report.failed.length === 0) process.stdout.write(`no mounts below ${report.target}\n`);
    if (report.failed.length > 0) {
      process.stderr.write(`hint: a process may still use them; \`fuser -vm PATH\` names it. Nothing outside ${report.target} was touched.\n`);
      process.exitCode = 1;
    }
  },
};
