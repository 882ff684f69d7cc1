import type { CommandModule } from 'yargs';
import { DEFAULT_DISTDIR, DEFAULT_REPO_BASEDIR, DEFAULT_SEED_FOLDER, DEFAULT_STOREDIR } from '../../handoff/defaults.js';

interface HandoffArgs {
  seed: string;
  storedir: string;
  'seed-folder': string;
  init: 'systemd' | 'openrc';
  treeish?: string;
  'defer-treeish': boolean;
  timestamp?: string;
  releng?: string;
  'specs-dir'?: string;
  jobs?: number;
  'load-average'?: number;
  distdir: string;
  'repo-basedir': string;
  'repos-storedir'?: string;
  force: boolean;
  'target-root'?: string;
  run?: string;
  follow: boolean;
  json: boolean;
}

export const command: CommandModule<object, HandoffArgs> = {
  command: 'handoff',
  describe: 'Put a seed stage3 where Catalyst finds it and write catalyst.conf and specs for stage1, stage3 and the minimal install CD',
  builder: (yargs) =>
    yargs
      .option('seed', { type: 'string', demandOption: true, describe: 'Seed tarball (with its .DIGESTS beside it)' })
      .option('storedir', { type: 'string', default: DEFAULT_STOREDIR, describe: "Catalyst's storedir" })
      .option('seed-folder', { type: 'string', default: DEFAULT_SEED_FOLDER, describe: "The folder under builds/ the seed goes in (the guide's; source_subpath <folder>/<seed name>)" })
      .option('init', {
        choices: ['systemd', 'openrc'] as const,
        default: 'systemd' as const,
        describe: "releng's stage specs: stage1-<init>-23 and stage3d-<init>-23 (the guide's: systemd)",
      })
      .option('treeish', { type: 'string', describe: 'Gentoo repository commit of `catalyst --snapshot` (default: the only snapshot in the storedir)' })
      .option('defer-treeish', {
        type: 'boolean',
        default: false,
        describe: 'With no --treeish and no snapshot yet, keep @TREEISH@ in the specs (to fill in after `catalyst --snapshot stable`) instead of refusing',
      })
      .option('timestamp', { type: 'string', describe: "Version stamp date (default: the seed's modification date, YYYY-MM-DD)" })
      .option('releng', {
        type: 'string',
        describe: "Gentoo's releng: the pinned snapshot tarball (distfiles.lock) or a checkout; its specs and Portage trees are used with the guide's edits (left unchanged)",
      })
      .option('specs-dir', { type: 'string', describe: 'Where catalyst.conf, the specs and logs go (default: <storedir>/specs)' })
      .option('jobs', { type: 'number', describe: "catalyst.conf jobs (default: this machine's CPU count)" })
      .option('load-average', { type: 'number', describe: 'catalyst.conf load-average (default: jobs)' })
      .option('distdir', { type: 'string', default: DEFAULT_DISTDIR })
      .option('repo-basedir', { type: 'string', default: DEFAULT_REPO_BASEDIR })
      .option('repos-storedir', { type: 'string', describe: 'Where `catalyst --snapshot` keeps its git clone' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace a different seed of the same name in the builds folder' })
      .option('target-root', {
        type: 'string',
        describe: 'Root filesystem of the machine that runs Catalyst (e.g. the root a VM image is made from): files go below it, paths in them stay as that machine sees them',
      })
      .option('run', {
        type: 'string',
        describe: 'Run Catalyst stage by stage with this command, split on spaces, not through a shell (e.g. "catalyst" or "ssh root@vm catalyst")',
      })
      .option('follow', { type: 'boolean', default: false, describe: "With --run, also show Catalyst's output here (it always goes to the stage's log)" })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
  handler: async (args) => {
    const { explainFsError, handoff } = await import('../../handoff/handoff.js');
    const { catalystCommands, parseRunPrefix } = await import('../../handoff/commands.js');
    const { shellQuote } = await import('../../util/shell-quote.js');
    const kleur = (await import('kleur')).default;
    // Checked first, so a bad --run writes nothing.
    const catalyst = args.run === undefined ? undefined : parseRunPrefix(args.run);
    const result = await handoff({
      seed: args.seed,
      storedir: args.storedir,
      seedFolder: args['seed-folder'],
      init: args.init,
      treeish: args.treeish,
      deferTreeish: args['defer-treeish'],
      timestamp: args.timestamp,
      releng: args.releng,
      specsDir: args['specs-dir'],
      jobs: args.jobs,
      loadAverage: args['load-average'],
      distdir: args.distdir,
      repoBasedir: args['repo-basedir'],
      reposStoredir: args['repos-storedir'],
      force: args.force,
      targetRoot: args['target-root'],
    }).catch((error: unknown) => explainFsError(error, 'cannot write the hand-off'));
    const { stagesFor } = await import('../../handoff/specs.js');
    const stages = stagesFor(args.init);
    const commands = catalystCommands(result.specsDir, catalyst, stages);
    const say = (line: string) => {
      if (!args.json) process.stdout.write(`${line}\n`);
    };
    say(`${kleur.green('seed')}     ${result.seedPath} (source_subpath ${result.sourceSubpath})`);
    say(`${kleur.green('config')}   ${result.confPath}`);
    for (const s of result.specs) say(`${kleur.green('spec')}     ${s.path}`);
    say(`${kleur.green('treeish')}  ${result.treeish}   timestamp ${result.timestamp}`);
    say(`${kleur.green('releng')}   ${result.edits.length} edits of the guide applied (src/handoff/guide-edits.ts):`);
    for (const e of result.edits) say(`  ${e.file}: ${e.change === 'replace-line' ? `${JSON.stringify(e.old)} -> ` : `${e.change} `}${JSON.stringify(e.new)}`);
    for (const note of result.notes) say(`${kleur.yellow('note:')} ${note}`);

    if (!catalyst) {
      say('\nRun Catalyst, in this order, as root on the machine that has this storedir (see docs/catalyst.md):');
      for (const c of commands) say(`  ${shellQuote(c.argv)}`);
      if (args['target-root'] !== undefined || result.treeish === '@TREEISH@') {
        const { catalystSetupBlock } = await import('../../handoff/commands.js');
        say('\nOr, on a fresh Catalyst machine (the VM), paste this block into a root shell: it installs Catalyst as the guide does, makes the snapshot, fills @TREEISH@ and runs the stages:\n');
        say(catalystSetupBlock(args.storedir, result.specsDir, stages));
      }
      if (args.json) process.stdout.write(`${JSON.stringify({ ...result, commands: commands.map((c) => ({ stage: c.stage, argv: c.argv })) }, null, 2)}\n`);
      return;
    }

    const { runStages } = await import('../../handoff/run-stages.js');
    const { interruptSignal } = await import('../run-control.js');
    const interrupt = interruptSignal();
    let outcomes;
    try {
      outcomes = await runStages({
        specsDir: result.specsDir,
        hostSpecsDir: result.hostSpecsDir,
        catalyst,
        stages,
        signal: interrupt.signal,
        onOutput: args.follow && !args.json ? (_stage, chunk) => process.stdout.write(chunk) : undefined,
        onStage: (e) => {
          const label = { started: kleur.cyan('run '), skipped: kleur.gray('skip'), done: kleur.green('done'), failed: kleur.red('FAIL'), interrupted: kleur.yellow('stop') }[e.status];
          say(`${label} ${e.stage}${e.status === 'started' ? `: ${shellQuote(e.argv)}\n     log: ${e.logPath}` : e.status === 'skipped' ? ' (finished before with the same spec)' : ''}`);
        },
      });
    } finally {
      interrupt.dispose();
    }
    const last = outcomes[outcomes.length - 1];
    const rerun = `bootstrap ${shellQuote(process.argv.slice(2))}`;
    if (last?.status === 'failed') {
      process.stderr.write(`${kleur.red('error:')} Catalyst failed in ${last.stage} (exit code ${last.exitCode ?? 'none'}); last lines of ${last.logPath}:\n`);
      for (const line of last.tail ?? []) process.stderr.write(`  ${line}\n`);
      process.stderr.write(`log: ${last.logPath}\nAfter fixing the cause, re-run (finished stages are skipped):\n  ${rerun}\n`);
      process.exitCode = 1;
    } else if (last?.status === 'interrupted') {
      process.stderr.write(`interrupted in ${last.stage}; log: ${last.logPath}\nTo continue:\n  ${rerun}\n`);
      process.exitCode = interrupt.signal.reason === 'SIGTERM' ? 143 : 130;
    }
    if (args.json) process.stdout.write(`${JSON.stringify({ ...result, stages: outcomes }, null, 2)}\n`);
  },
};
