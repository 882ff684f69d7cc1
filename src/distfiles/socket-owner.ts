import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';

/**
 * Whether process `pid` runs as this user and has a listening Unix socket bound to the abstract
 * `address` (leading NUL) open: what the kernel says, not what the process says of itself.
 * /proc/net/unix lists the sockets of this network namespace (abstract names shown with `@`)
 * with their inodes, and /proc/<pid>/fd links to `socket:[<inode>]`.
 */
export function holdsListeningSocket(pid: number, address: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    if (statSync(`/proc/${pid}`).uid !== process.getuid?.()) return false;
    const inodes = listeningInodes(address);
    if (inodes.size === 0) return false;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue; // closed while we looked
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1]!)) return true;
    }
    return false;
  } catch {
    return false; // the process is gone, or its fds are not ours to read
  }
}

// In /proc/net/unix, a listening socket has __SO_ACCEPTCON (0x10000) in Flags.
const ACCEPTING = 0x10000;

function listeningInodes(address: string): Set<string> {
  const path = `@${address.slice(1)}`;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const fields = line.trim().split(/\s+/);
    // Node binds abstract names with the whole sun_path, NUL-padded: shown as trailing `@`s.
    if (fields.length < 8 || fields.slice(7).join(' ').replace(/@+$/, '') !== path) continue;
    if ((Number.parseInt(fields[3]!, 16) & ACCEPTING) !== 0) inodes.add(fields[6]!);
  }
  return inodes;
}
