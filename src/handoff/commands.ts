import { join } from 'node:path';
import { BootstrapError } from '../util/errors.js';
import { STAGES, type StageId } from './specs.js';

export interface CatalystCommand {
  stage: StageId;
  /** Absolute path of the stage's spec file. */
  spec: string;
  /** The full command: the Catalyst command words, then `-c <catalyst.conf> -f <spec>`. */
  argv: string[];
}

/**
 * The Catalyst runs of a hand-off, in order. `catalyst` is the command that starts Catalyst,
 * as argv words: `['catalyst']` locally, `['ssh', 'root@vm', 'catalyst']` on a VM that sees
 * the same paths, `['catalyst', '-v']` for verbose output.
 */
export function catalystCommands(
  specsDir: string,
  catalyst: string[] = ['catalyst'],
  stages: ReadonlyArray<{ id: StageId; file: string }> = STAGES,
): CatalystCommand[] {
  const conf = join(specsDir, 'catalyst.conf');
  return stages.map((s) => {
    const spec = join(specsDir, s.file);
    return { stage: s.id, spec, argv: [...catalyst, '-c', conf, '-f', spec] };
  });
}


/**
 * `--run CMD` is split on whitespace into argv words and is not given to a shell, so quotes,
 * `$`, `;`, pipes and redirections would be passed literally: they are refused instead of
 * being misread. (Through `ssh`, the remote side joins the words with spaces into a command.)
 */
export function parseRunPrefix(text: string): string[] {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) {
    throw new BootstrapError('EUSAGE', '--run needs the command that starts Catalyst, e.g. --run catalyst or --run "ssh root@vm catalyst"', {});
  }
  const bad = words.find((w) => /["'`$\\;&|<>(){}*?!~]/.test(w));
  if (bad !== undefined) {
    throw new BootstrapError('EUSAGE', `--run ${JSON.stringify(text)}: ${JSON.stringify(bad)} holds shell syntax, but --run is split on spaces and not run by a shell`, {
      hint: 'Give plain words (e.g. --run "ssh -p 2222 root@localhost catalyst"); put anything fancier in a script and pass its path.',
    });
  }
  return words;
}

/**
 * The guide's VM leg after the image boots and SSH works, as one exact block to paste into a
 * root shell on the Catalyst machine: install Catalyst with the guide's keyword and USE lines,
 * make the repository snapshot, fill `@TREEISH@` with its commit, and run the stages in order.
 * It is printed, not performed: it runs inside the VM (its own Portage, network and loop
 * devices), which this host cannot enter before SSH is set up by hand on the VM's console.
 */
export function catalystSetupBlock(
  storedir: string,
  specsDir: string,
  stages: ReadonlyArray<{ id: StageId; file: string }> = STAGES,
): string {
  const q = (s: string) => (/^[A-Za-z0-9_./=:@-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const conf = join(specsDir, 'catalyst.conf');
  return [
    'set -e',
    'mkdir -p /etc/portage/package.accept_keywords /etc/portage/package.use',
    'echo dev-util/catalyst > /etc/portage/package.accept_keywords/catalyst',
    '(echo sys-apps/util-linux python; echo sys-boot/grub grub_platforms_efi-32) > /etc/portage/package.use/catalyst',
    'emerge dev-util/catalyst',
    `catalyst -c ${q(conf)} --snapshot stable`,
    `T=$(ls ${q(join(storedir, 'snapshots'))} | sed -n 's/^gentoo-\\(.*\\)\\.sqfs$/\\1/p' | tail -n 1)`,
    `sed -i "s/@TREEISH@/$T/" ${stages.map((s) => q(join(specsDir, s.file))).join(' ')}`,
    ...stages.map((s) => `catalyst -c ${q(conf)} -f ${q(join(specsDir, s.file))}`),
  ].join('\n');
}
