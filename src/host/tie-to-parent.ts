import { findTool } from './tools.js';

/**
 * The command `file args…` tied to this process: util-linux setpriv sets the parent-death signal
 * to SIGKILL and then executes the command in its place (same pid, same exit status), so the
 * kernel kills it when bootstrap dies, even by SIGKILL. The same tie as the sandbox's
 * (src/host/sandbox.ts), for tools bootstrap runs on the host directly, such as the packer's tar
 * and xz. The signal follows the thread that spawned the child; Node spawns from its main thread.
 */
export function tiedToParent(file: string, args: readonly string[]): [string, string[]] {
  return [findTool('setpriv'), ['--pdeathsig', 'KILL', '--', file, ...args]];
}
