import type { CommandModule } from 'yargs';
// Static: exclude.ts is small and has no dependencies beyond src/util/errors.ts.
import { DEFAULT_SEED_EXCLUDES, normalizeExcludes } from '../../stage/exclude.js';

interface PackArgs {
  root: string;
  out: string;
  exclude: string[];
  'default-excludes': boolean;
  compress?: string;
  epoch?: string;
  plain: boolean;
  json: boolean;
  force: boolean;
}

const DEFAULT_EXCLUDES_TEXT = DEFAULT_SEED_EXCLUDES.join(' ');

export const command: CommandModule<object, PackArgs> = {
  command: 'pack',
  describe: 'Pack a root filesystem into a reproducible seed stage3 tarball with Catalyst\'s .DIGESTS and .CONTENTS.gz beside it',
  builder: (yargs) =>
    yargs
      .option('root', { type: 'string', demandOption: true, describe: 'The tree to pack (needs root to read it faithfully)' })
      .option('out', { type: 'string', demandOption: true, describe: 'The tarball to write, outside the tree, in a folder that exists; its name ends in .tar.xz, .tar.zst or .tar' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing --out (and its .DIGESTS and .CONTENTS.gz)' })
      .option('exclude', {
        type: 'string',
        array: true,
        default: [] as string[],
        describe:
          'Leave out paths matching PATTERN, relative to the root and matched against the whole path: ./var/tmp/* drops what var/tmp holds and keeps the folder; * also matches /, ? one character, [abc] a set (repeatable; adds to the defaults)',
      })
      .option('default-excludes', { type: 'boolean', default: true, describe: `Also leave out ${DEFAULT_EXCLUDES_TEXT}, as the guide does (--no-default-excludes packs them)` })
      .option('compress', { type: 'string', choices: ['xz', 'zstd', 'none'], describe: 'Compression (default: what the --out name says)' })
      .option('epoch', {
        type: 'string',
        describe:
          'Clamp modification times newer than SECONDS (since 1970) to it. Default: $SOURCE_DATE_EPOCH when set; otherwise every file keeps its own time, and the same tree still packs to the same bytes',
      })
      .option('plain', { type: 'boolean', default: false, describe: 'Plain progress lines (the default without a terminal)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document with the result' })
      .example('sudo $0 pack --root /mnt/lb/gentoo --out /var/tmp/stage3-bootstrap.tar.xz', 'Pack a seed as the guide does')
      .example('sudo $0 pack --root DIR --out seed.tar.zst --epoch 1735689600 --exclude ./root/.bash_history', ''),
  handler: async (args) => {
    const { BootstrapError } = await import('../../util/errors.js');
    const { packStage } = await import('../../stage/pack-stage.js');
    const { checkPackPaths } = await import('../../stage/check-paths.js');
    const { compressionFor } = await import('../../stage/tar-command.js');
    const { withPackProgress } = await import('../../stage/progress.js');
    const { mib } = await import('../../util/format.js');
    const kleur = (await import('kleur')).default;

    // An empty SOURCE_DATE_EPOCH counts as unset, as reproducible-builds.org's specification says.
    const epochText = args.epoch ?? (process.env.SOURCE_DATE_EPOCH || undefined);
    const epochSource = args.epoch !== undefined ? '--epoch' : 'SOURCE_DATE_EPOCH';
    if (epochText !== undefined && !/^\d+$/.test(epochText)) {
      throw new BootstrapError('EPACK_EPOCH', `${epochSource}: ${JSON.stringify(epochText)} is not a whole number of seconds since 1970`, {
        hint: epochSource === '--epoch' ? 'For example --epoch 1735689600.' : 'Unset SOURCE_DATE_EPOCH or set it to whole seconds, or give --epoch.',
      });
    }
    const epoch = epochText === undefined ? undefined : Number(epochText);
    // Checked here too, so that bad input is reported with the option names before any progress.
    const paths = await checkPackPaths(args.root, args.out);
    compressionFor(args.out, args.compress);
    // One rule with vm-image and handoff: an existing output is replaced only with --force.
    const { existsSync } = await import('node:fs');
    const existing = [paths.out, `${paths.out}.DIGESTS`, `${paths.out}.CONTENTS.gz`].filter((path) => existsSync(path));
    if (existing.length > 0 && !args.force) {
      throw new BootstrapError('EPACK_OUT', `--out ${args.out}: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}`, {
        hint: 'Pass --force to replace it, or choose another --out.',
      });
    }
    normalizeExcludes(args.exclude, '--exclude');
    if (process.getuid?.() !== 0) {
      process.stderr.write(`${kleur.yellow('note:')} not running as root: tar stops at the first file only root may read\n`);
    }

    const { interruptSignal } = await import('../run-control.js');
    const interrupt = interruptSignal();
    const mode = args.json ? 'quiet' : args.plain || !process.stdout.isTTY ? 'plain' : 'listr';
    let result;
    try {
      result = await withPackProgress(`Packing ${args.root}`, mode, (onProgress) =>
        packStage({
          root: args.root,
          out: args.out,
          exclude: [...(args['default-excludes'] ? DEFAULT_SEED_EXCLUDES : []), ...args.exclude],
          compress: args.compress as 'xz' | 'zstd' | 'none' | undefined,
          epoch,
          onProgress,
          signal: interrupt.signal,
        }),
      );
    } catch (error) {
      if (!interrupt.signal.aborted) throw error;
      const name = String(interrupt.signal.reason);
      throw new BootstrapError('EINTERRUPTED', `interrupted by ${name}; ${args.out} is left as it was`, { exitCode: name === 'SIGINT' ? 130 : 143 });
    } finally {
      interrupt.dispose();
    }
    if (args.json) {
      process.stdout.write(`${JSON.stringify({ ...result, epoch: epoch ?? null }, null, 2)}\n`);
      return;
    }
    for (const warning of result.warnings) process.stderr.write(`${kleur.yellow('note:')} ${warning}\n`);
    process.stdout.write(
      [
        `${kleur.green('packed')}   ${result.path}`,
        `size     ${mib(result.size)} (${result.size} bytes)`,
        `entries  ${result.entries}`,
        `sha512   ${result.sha512}`,
        `digests  ${result.digestsPath}`,
        `contents ${result.contentsPath}`,
        `mtimes   ${epoch === undefined ? 'as in the tree' : `clamped to ${epoch} (from ${epochSource})`}`,
      ].join('\n') + '\n',
    );
  },
};
