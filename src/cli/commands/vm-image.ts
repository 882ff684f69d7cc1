import type { CommandModule } from 'yargs';

interface VmImageArgs {
  root: string;
  out: string;
  size: string;
  kernel?: string;
  force: boolean;
  memory: string;
  cpus?: number;
  'ssh-port': number;
  json: boolean;
}

export const command: CommandModule<object, VmImageArgs> = {
  command: 'vm-image',
  describe: 'Build a raw ext4 disk image of a bootstrapped root (to run Catalyst in a VM) and print the qemu command',
  builder: (yargs) =>
    yargs
      .option('root', { type: 'string', demandOption: true, describe: 'The bootstrapped root filesystem' })
      .option('out', { type: 'string', demandOption: true, describe: 'Image file to write' })
      .option('size', { type: 'string', default: '50G', describe: 'Image size (K, M, G, T: binary units); reserved on disk up front' })
      .option('kernel', { type: 'string', describe: 'Kernel to boot (default: the newest <root>/boot/vmlinuz-*)' })
      .option('force', { type: 'boolean', default: false, describe: 'Replace an existing --out' })
      .option('memory', { type: 'string', default: '8G', describe: 'qemu -m' })
      .option('cpus', { type: 'number', describe: "qemu -smp (default: this machine's CPU count)" })
      .option('ssh-port', { type: 'number', default: 2222, describe: "Host port forwarded to the VM's SSH port (127.0.0.1 only)" })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON document' }),
  handler: async (args) => {
    const { buildVmImage } = await import('../../handoff/vm-image.js');
    const { explainFsError } = await import('../../handoff/handoff.js');
    const { shellQuote } = await import('../../util/shell-quote.js');
    const kleur = (await import('kleur')).default;
    if (!args.json) process.stdout.write(`building ${args.out} (${args.size}) from ${args.root} ...\n`);
    const result = await buildVmImage({
      root: args.root,
      out: args.out,
      size: args.size,
      kernel: args.kernel,
      force: args.force,
      memory: args.memory,
      cpus: args.cpus,
      sshPort: args['ssh-port'],
    }).catch((error: unknown) => explainFsError(error, 'cannot write the image'));
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    process.stdout.write(`${kleur.green('image')}  ${result.image} (${result.sizeBytes} bytes)\n\nBoot it with:\n  ${shellQuote(result.qemu)}\n\n`);
    for (const step of result.nextSteps) process.stdout.write(`- ${step}\n`);
  },
};
