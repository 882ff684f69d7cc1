import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs, { type CommandModule } from 'yargs';
import { BootstrapError } from '../util/errors.js';
import { reportError } from './report-error.js';

/**
 * Each file in ./commands exports `command`, a yargs CommandModule, and is named for the command
 * (status.js for `bootstrap status`). Command files import their implementation lazily inside
 * the handler so that `bootstrap status` does not load the fetcher. When the first argument
 * names a command file, only that file is loaded; otherwise (--help, a typo) all of them are.
 */
async function loadCommands(first: string | undefined): Promise<CommandModule[]> {
  const dir = fileURLToPath(new URL('./commands/', import.meta.url));
  const all = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  if (first !== undefined && all.includes(`${first}.js`)) {
    const [named] = await load([`${first}.js`]);
    // A file that is not named for its command is found the slow way, among all of them.
    if (named !== undefined && String(named.command).split(' ')[0] === first) return [named];
  }
  return load(all);
}

async function load(files: string[]): Promise<CommandModule[]> {
  const modules = await Promise.all(files.map((f) => import(new URL(`./commands/${f}`, import.meta.url).href)));
  return modules.map((m: { command?: CommandModule }) => m.command).filter((c): c is CommandModule => c !== undefined);
}

export async function main(argv: string[]): Promise<void> {
  const parser = yargs(argv)
    .scriptName('bootstrap')
    .usage('$0 <command> [options]\n\nBuilds a Gentoo seed stage3 from live-bootstrap output and hands it to Catalyst.')
    .strict()
    .demandCommand(1, 'Name a command; see bootstrap --help.')
    .recommendCommands()
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((message, error) => {
      throw error ?? new BootstrapError('EUSAGE', message, { hint: 'See bootstrap --help.' });
    });
  for (const command of await loadCommands(argv[0])) parser.command(command);
  try {
    await parser.parseAsync();
  } catch (error) {
    process.exitCode = reportError(error);
  }
}
