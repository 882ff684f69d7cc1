import { execa } from 'execa';
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { shellQuote } from '../util/shell-quote.js';

/**
 * Seed 004's "Keeping the binhost and target in sync" as one command: the target gets the
 * binhost environment's Portage configuration and world file; the binhost environment builds
 * the packages with `--buildpkg --root-deps` (ROOT, PORTAGE_CONFIGROOT and PKGDIR all point at
 * it); then the target installs them with `--getbinpkgonly` from its binrepos.conf.
 */
export interface SyncOptions {
  /** The binhost environment (seed 004's /binhost/): a Gentoo root with the target's configuration. */
  binhostRoot: string;
  /** Where its packages go (default: <binhostRoot>/var/cache/binpkgs, what binhost serve serves). */
  pkgdir?: string;
  /** A target on this machine, as a folder (installed with ROOT= and PORTAGE_CONFIGROOT=). */
  targetRoot?: string;
  /** A target over ssh, `user@host` (installed with `ssh -t … sudo emerge`). */
  ssh?: string;
  /** The emerge to run on this machine (default: emerge on PATH). */
  emerge: string;
  /** Atoms and options for both emerges. */
  args: string[];
  dryRun: boolean;
}

/** What seed 004 copies: the Portage configuration and the world set files, never the target's binrepos.conf. */
const CONFIG = ['etc/portage', 'var/lib/portage/world', 'var/lib/portage/world_sets'];
const KEEP_ON_TARGET = 'binrepos.conf';

export interface SyncCommand {
  what: string;
  /** The command as a shell line, for the user. */
  line: string;
  run: () => Promise<void>;
}

export async function syncPlan(options: SyncOptions): Promise<SyncCommand[]> {
  if ((options.targetRoot === undefined) === (options.ssh === undefined)) {
    throw new BootstrapError('EUSAGE', 'name the target once: --target-root DIR for a root on this machine, or --ssh USER@HOST');
  }
  if (options.args.length === 0) throw new BootstrapError('EUSAGE', 'name what to build and install after --, e.g. -- app-editors/vim');
  const binhost = resolve(options.binhostRoot);
  await access(join(binhost, 'etc/portage')).catch(() => {
    throw new BootstrapError('EBINHOSTROOT', `${binhost}/etc/portage: not there; --binhost-root must be the binhost environment (a Gentoo root with the target's configuration)`);
  });
  const present: string[] = [];
  for (const path of CONFIG) if (await access(join(binhost, path)).then(() => true, () => false)) present.push(path);
  const pkgdir = resolve(options.pkgdir ?? join(binhost, 'var/cache/binpkgs'));
  const build = { ROOT: `${binhost}/`, PORTAGE_CONFIGROOT: `${binhost}/`, PKGDIR: `${pkgdir}/` };
  const env = (vars: Record<string, string>) => Object.entries(vars).map(([k, v]) => `${k}=${shellQuote([v])}`).join(' ');
  const commands: SyncCommand[] = [];

  // tar, not cp or seed 004's scp -r: links (make.profile) stay links and replace the target's,
  // whatever they point to on this machine.
  const pack = ['tar', '-C', binhost, '--exclude', `etc/portage/${KEEP_ON_TARGET}`, '-cf', '-', ...present];
  const copied = `copy ${present.join(', ')} to ${options.targetRoot !== undefined ? resolve(options.targetRoot) : options.ssh!} (its ${KEEP_ON_TARGET} stays)`;
  const buildArgs = ['--buildpkg', '--root-deps', ...options.args];
  if (options.targetRoot !== undefined) {
    const target = resolve(options.targetRoot);
    const unpack = ['tar', '-C', target, '-xpf', '-'];
    commands.push({ what: copied, line: `${shellQuote(pack)} | ${shellQuote(unpack)}`, run: () => pipe(pack, unpack) });
    commands.push(emergeCommand('build the packages in the binhost environment', options.emerge, buildArgs, build, env));
    commands.push(emergeCommand(`install them in ${target} from the binhost`, options.emerge, ['--getbinpkgonly', ...options.args], { ROOT: `${target}/`, PORTAGE_CONFIGROOT: `${target}/` }, env));
  } else {
    const dest = options.ssh!;
    const unpack = ['ssh', dest, shellQuote(['sudo', 'tar', '-C', '/', '-xpf', '-'])];
    commands.push({ what: copied, line: `${shellQuote(pack)} | ${shellQuote(unpack)}`, run: () => pipe(pack, unpack) });
    commands.push(emergeCommand('build the packages in the binhost environment', options.emerge, buildArgs, build, env));
    const remote = shellQuote(['sudo', 'emerge', '--getbinpkgonly', ...options.args]);
    commands.push({
      what: `install them on ${dest} from the binhost`,
      line: shellQuote(['ssh', '-t', dest, remote]),
      run: async () => {
        await execa('ssh', ['-t', dest, remote], { stdio: 'inherit' });
      },
    });
  }
  return commands;
}

/** `from | to`, both checked. */
async function pipe(from: string[], to: string[]): Promise<void> {
  await execa(from[0]!, from.slice(1), { stderr: 'inherit' }).pipe(to[0]!, to.slice(1), { stdout: 'inherit', stderr: 'inherit' });
}

function emergeCommand(what: string, emerge: string, args: string[], vars: Record<string, string>, env: (vars: Record<string, string>) => string): SyncCommand {
  return {
    what,
    line: `${env(vars)} ${shellQuote([emerge, ...args])}`,
    run: async () => {
      await execa(emerge, args, { env: vars, stdio: 'inherit' });
    },
  };
}

/** Runs the plan in order, saying each command first; the first failure stops it (the target is not touched after a failed build). */
export async function runSync(options: SyncOptions, say: (text: string) => void): Promise<number> {
  const commands = await syncPlan(options);
  for (const [index, command] of commands.entries()) {
    say(`[${index + 1}/${commands.length}] ${command.what}\n  ${command.line}`);
    if (options.dryRun) continue;
    try {
      await command.run();
    } catch (error) {
      const code = (error as { exitCode?: number }).exitCode;
      throw new BootstrapError('EBINHOSTSYNC', `step ${index + 1} of ${commands.length} failed (${command.what})${code !== undefined ? `: exit status ${code}` : `: ${(error as Error).message}`}`, {
        hint: index === 1 ? 'Nothing was installed on the target; fix the build and run the same command again.' : 'Fix the cause and run the same command again; the steps are safe to repeat.',
        exitCode: 1,
        cause: error,
      });
    }
  }
  return 0;
}
