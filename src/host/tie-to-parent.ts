import { findTool } from './tools.js';

/**
 * The command `file args…` tied to this process: util-linux setpriv sets the parent-death signal
 * to SIGKILL and then executes the command in its place (same pid, same exit status), so the
 * kernel kills it when bootstrap dies, even by SIGKILL. The sandbox's steps
 * (src/host/sandbox.ts) and the tools bootstrap runs on the host directly, such as the packer's
 * tar and xz, go through it. The signal follows the thread that spawned the child; Node spawns
 * from its main thread.
 */
export function tiedToParent(file: string, args: readonly string[]): [string, string[]] {
  return [findTool('setpriv'), ['--pdeathsig', 'KILL', '--', file, ...args]];
}
