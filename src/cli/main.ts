import yargs, { type Argv, type CommandModule } from 'yargs';
import { BootstrapError } from '../util/errors.js';
import { toolVersion } from '../util/tool-version.js';
import { reportError } from './report-error.js';

/**
 * Every command, by name: each file in ./commands exports `command`, a yargs CommandModule, and
 * is named for its command. Each is a literal import() so that the bundler (bin/build.js) gives
 * each command its own chunk: `bootstrap status` loads the status file and what its handler
 * imports, never the fetcher. test/unit/cli/commands.test.ts checks this table against the folder.
 */
// Each command's handler takes its own argument type; yargs takes them all.
type CommandFile = { command: CommandModule<any, any> };

export const COMMANDS: Readonly<Record<string, () => Promise<CommandFile>>> = {
  audit: () => import('./commands/audit.js'),
  binhost: () => import('./commands/binhost.js'),
  doctor: () => import('./commands/doctor.js'),
  fetch: () => import('./commands/fetch.js'),
  handoff: () => import('./commands/handoff.js'),
  lock: () => import('./commands/lock.js'),
  pack: () => import('./commands/pack.js'),
  plan: () => import('./commands/plan.js'),
  preflight: () => import('./commands/preflight.js'),
  report: () => import('./commands/report.js'),
  resume: () => import('./commands/resume.js'),
  run: () => import('./commands/run.js'),
  status: () => import('./commands/status.js'),
  unmount: () => import('./commands/unmount.js'),
  'vm-image': () => import('./commands/vm-image.js'),
  why: () => import('./commands/why.js'),
};

/** Only the named command when the first argument names one; all of them for --help or a typo. */
async function loadCommands(first: string | undefined): Promise<Map<string, CommandFile['command']>> {
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  return new Map(await Promise.all(names.map(async (name) => [name, (await COMMANDS[name]!()).command] as const)));
}

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName('bootstrap')
    // yargs would look for package.json from the working directory's side, not the bundle's.
    .version(toolVersion())
    .usage('$0 <command> [options]\n\nBuilds a Gentoo seed stage3 from live-bootstrap output and hands it to Catalyst.')
    .strict()
    .demandCommand(1, 'Name a command; see bootstrap --help.')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      throw error ?? new BootstrapError('EUSAGE', message, { hint: 'See bootstrap --help.' });
    });
  const commands = await loadCommands(argv[0]);
  // yargs parses and validates; the handler runs here, once it has. A handler yargs runs itself
  // is followed by the command's whole help, laid out and kept in case the handler fails later
  // (yargs' cacheHelpMessage): 5 to 15 ms on every command, for a help the .fail() above never
  // shows. Subcommands (lock, binhost) are still run by yargs, under a parent that does nothing.
  // Every builder is a function (test/unit/cli/commands.test.ts); yargs types the two forms apart.
  for (const { command, describe, builder } of commands.values()) parser.command(command!, describe as string, builder as (y: Argv) => Argv);
  try {
    const args = await parser.parseAsync();
    await commands.get(String(args._[0]))?.handler(args);
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
