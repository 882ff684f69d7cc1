import { stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { BootstrapError, errnoCode } from '../util/errors.js';
import { shellWord } from '../util/shell-quote.js';
import type { Root } from '../engine/step-kind.js';
import { tiedToParent } from './tie-to-parent.js';
import { findTool } from './tools.js';
import { resolveInRoot } from './rooted-fs.js';

/**
 * Runs a script in a root in fresh namespaces, or on the host. The guarantees:
 * - A chroot step gets new mount and pid namespaces (util-linux unshare). proc, sys, dev,
 *   dev/pts, dev/shm and tmp are mounted inside the namespace only, so when the last process
 *   in it ends the kernel removes the mounts: nothing is ever left under the target.
 * - The process chain is tied to the orchestrator: setpriv's parent-death signal kills unshare
 *   when bootstrap dies (even by SIGKILL), and unshare --kill-child then kills the namespace's
 *   init, which takes every process in the pid namespace with it.
 * - The environment starts empty (env -i) plus the root's and the step's variables.
 */

export interface SandboxRequest {
  root: Root;
  script: string;
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  output: (chunk: Buffer) => void;
  signal: AbortSignal;
  /** Seconds between SIGTERM to the step's processes and SIGKILL. */
  graceSeconds?: number;
}

const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
// Linux refuses a single argument longer than this (MAX_ARG_STRLEN).
const MAX_ARGUMENT = 128 * 1024 - 1;

/**
 * Mounts a private /dev (a tmpfs with the harmless device nodes bound in, its own devpts
 * instance) rather than the host's devtmpfs: anything a build creates in /dev then stays in
 * the namespace. Mount points must not be symbolic links (mount follows them).
 */
const SETUP = String.raw`
set -eu
R=$1; shift

for d in proc sys dev tmp; do
  if [ -L "$R/$d" ]; then echo "bootstrap: $R/$d is a symbolic link; refusing to mount there" >&2; exit 125; fi
  [ -d "$R/$d" ] || mkdir -m 0755 "$R/$d"
done
mount -t proc -o nosuid,nodev,noexec proc "$R/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$R/sys"
mount -t tmpfs -o mode=0755,nosuid,size=64m dev "$R/dev"
for n in null zero full random urandom tty; do
  : > "$R/dev/$n"
  mount --bind "/dev/$n" "$R/dev/$n"
done
mkdir -m 0755 "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$R/tmp"
`;

/**
 * The first process of a pid namespace is its init, and the kernel drops signals to an init
 * that has no handler for them: a step's shell must not be pid 1, or SIGTERM would kill only
 * its children and the script would go on. This small init runs the command as its child,
 * passes SIGTERM on, and exits with the child's status (its exit ends the namespace).
 */
const INIT = String.raw`
set +e
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null' TERM INT HUP
while :; do
  wait "$child"
  status=$?
  kill -0 "$child" 2>/dev/null || break
done
exit "$status"
`;

/** The text a step's shell is given: the root's prelude, the working directory, the script. */
export function sandboxScript(root: Root, script: string, cwd?: string): string {
  return [root.prelude, cwd ? `cd ${shellWord(cwd)} || exit 1` : '', script].filter((part) => part !== '').join('\n');
}

/**
 * The whole script is one argument of the shell, so Linux's limit on one argument applies.
 * Step kinds call this when planning, so `bootstrap plan` says it before a run gets there.
 */
export function checkScriptSize(full: string, what: string): void {
  const size = Buffer.byteLength(full);
  if (size > MAX_ARGUMENT) {
    throw new BootstrapError('ESCRIPT', `${what}: the script, with its root's prelude, is ${size} bytes; Linux passes at most ${MAX_ARGUMENT} in one argument`, {
      hint: 'Split the step, or move the long text into a file the recipe writes with a write step.',
    });
  }
}

export async function runSandboxed(request: SandboxRequest): Promise<{ exitCode: number }> {
  const { root } = request;
  const script = sandboxScript(root, request.script, request.cwd);
  checkScriptSize(script, `root ${root.name}`);
  const env = {
    HOME: '/root',
    TERM: process.env.TERM ?? 'dumb',
    PATH: BASE_PATH,
    ...root.env,
    ...request.env,
  };
  const assignments = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const isRoot = process.getuid?.() === 0;
  const tie = (command: string[]): string[] => {
    const [file, args] = tiedToParent(command[0]!, command.slice(1));
    return [file, ...args];
  };
  let argv: string[];
  if (root.host) {
    const shell = [...root.shell, '-c', script];
    const command = [findTool('env'), '-i', ...assignments, ...shell];
    argv = tie(isRoot ? [findTool('unshare'), '--pid', '--fork', '--kill-child', '--', '/bin/sh', '-c', INIT, 'bootstrap-init', ...command] : command);
  } else {
    if (!isRoot) {
      throw new BootstrapError('ENOTROOT', `running a step in root ${root.name} (${root.path}) needs root privileges`, {
        hint: 'Run bootstrap with sudo; `bootstrap plan` shows the plan without root.',
      });
    }
    await checkRoot(root);
    argv = tie([
      findTool('unshare'), '--mount', '--propagation', 'private', '--pid', '--fork', '--kill-child', '--',
      '/bin/sh', '-c', SETUP + INIT, 'bootstrap-sandbox', root.path,
      findTool('env'), '-i', ...assignments, findTool('chroot'), root.path, ...root.shell, '-c', script,
    ]);
  }
  return spawnTied(argv, request);
}

async function spawnTied(argv: string[], request: SandboxRequest): Promise<{ exitCode: number }> {
  if (request.signal.aborted) return { exitCode: 130 };
  const [file, ...args] = argv as [string, ...string[]];
  // Its own process group, so the terminal's Ctrl-C reaches only bootstrap, which then stops
  // the step's whole tree itself.
  // Loaded here: planning imports this module, and only a run spawns.
  const { execa } = await import('execa');
  const child = execa(file, args, { detached: true, stdin: 'ignore', all: true, buffer: false, reject: false, cwd: '/', env: {}, extendEnv: false });
  child.all?.on('data', (chunk: Buffer) => request.output(chunk));
  const stop = () => terminate(child.pid, (request.graceSeconds ?? 10) * 1000);
  request.signal.addEventListener('abort', stop, { once: true });
  try {
    const result = await child;
    if (result.exitCode !== undefined) return { exitCode: result.exitCode };
    return { exitCode: 128 + (constants.signals[result.signal as NodeJS.Signals] ?? 0) };
  } finally {
    request.signal.removeEventListener('abort', stop);
  }
}

/** SIGTERM to the step's process group, then SIGKILL after the grace period. */
function terminate(pid: number | undefined, graceMs: number): void {
  if (pid === undefined) return;
  signalGroup(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    signalGroup(pid, 'SIGKILL');
  }, graceMs);
  timer.unref();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (error) {
    if (errnoCode(error) !== 'ESRCH') throw error;
  }
}

async function checkRoot(root: Root): Promise<void> {
  const info = await stat(root.path).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new BootstrapError('ENOROOT', `root ${root.name} is not a directory: ${root.path}`, {
      hint: 'Check --target, or run the step that creates this root first.',
    });
  }
  const shell = await resolveInRoot(root.path, root.shell[0]!);
  if (!(await stat(shell).catch(() => undefined))?.isFile()) {
    throw new BootstrapError('ENOSHELL', `root ${root.name} has no shell ${root.shell[0]} (looked at ${shell})`, {
      hint: 'Set roots.<name>.shell in the recipe to a shell that exists in that root.',
    });
  }
}
