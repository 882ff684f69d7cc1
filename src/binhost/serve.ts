import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import { BootstrapError } from '../util/errors.js';
import { binreposConf } from './binrepos-conf.js';
import { startStaticServer, type AccessLog, type StaticServer } from './http-server.js';
import { ServedPkgdir, mismatchError } from './served-pkgdir.js';
import type { IndexVerdict } from './verify-index.js';

export interface ServeOptions {
  pkgdir: string;
  host: string;
  port: number;
  /** The URL targets use, when it is not the bound address (a tunnel, a DNS name). */
  url?: string;
  name: string;
  priority?: number;
}

export interface Binhost {
  server: StaticServer;
  url: string;
  conf: string;
  verdict: IndexVerdict;
}

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/**
 * The warning seed 004 gives before exposing a PKGDIR: anyone who can reach the port can fetch
 * every package (and learn the system's configuration from the index).
 */
export function publicBindWarning(host: string, pkgdir: string): string {
  return [
    `warning: binding ${host} serves every package in ${pkgdir}, and its index (USE flags, CHOST, profile), to anyone who can reach this machine.`,
    '  Keep it temporary: once the target is set up, close the port with a firewall and reach the binhost over a private link',
    '  (a VPN such as Tailscale, or an SSH tunnel: ssh -L PORT:127.0.0.1:PORT host, and bind 127.0.0.1).',
  ].join('\n');
}

/**
 * Checks the PKGDIR's index against its files, then serves it read-only. Throws
 * EBINHOSTMISMATCH (naming each broken package) without binding anything when they differ.
 */
export async function serveBinhost(options: ServeOptions, log: { warn: (text: string) => void; access?: AccessLog }): Promise<Binhost> {
  const { served, verdict } = await ServedPkgdir.open(options.pkgdir, (next) => {
    const error = mismatchError(next);
    log.warn(error ? `refusing the changed index until it matches again: ${error.message}` : `index changed: ${next.checks.length} packages checked`);
  });
  if (!isLoopback(options.host)) log.warn(publicBindWarning(options.host, served.pkgdir));
  let server: StaticServer;
  try {
    server = await startStaticServer({ host: options.host, port: options.port, lookup: served.lookup, ...(log.access ? { log: log.access } : {}) });
  } catch (error) {
    throw new BootstrapError('EBINHOSTBIND', `cannot listen on ${options.host} port ${options.port}: ${(error as Error).message}`, {
      hint: 'Choose another --port (0 lets the system pick a free one), or a --bind address this machine has.',
      cause: error,
    });
  }
  const url = options.url ?? `http://${urlHost(server.address.address)}:${server.address.port}/`;
  return { server, url, verdict, conf: binreposConf({ name: options.name, url, ...(options.priority !== undefined ? { priority: options.priority } : {}) }) };
}

/** The host part of the URL a target uses: for a wildcard bind, this machine's first external IPv4. */
function urlHost(address: string): string {
  if (address === '0.0.0.0' || address === '::') {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && !a.internal && a.family === 'IPv4');
    return external?.address ?? '127.0.0.1';
  }
  return isIP(address) === 6 ? `[${address}]` : address;
}
