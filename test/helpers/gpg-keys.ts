import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasTool, tempDir } from './env.js';

/** Whether the real gpg (to make test keys) and gpgv (what bootstrap runs) are installed. */
export const hasGpgTools = hasTool('gpg') && hasTool('gpgv');
export const GPG_SKIP = 'needs gpg and gpgv (Debian packages gnupg and gpgv)';

/**
 * A throwaway GNUPGHOME for keys made in a test with the real gpg: `remove()` it after the tests.
 * Keys are ed25519 signing keys without a passphrase.
 */
export function testKeyring(prefix = 'gnupg-') {
  const home = tempDir(prefix);
  const gpg = (...args: string[]): Buffer =>
    execFileSync('gpg', ['--homedir', home.path, '--batch', '--quiet', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  return {
    gpg,
    /** Makes a key for `uid`; returns its fingerprint (40 upper-case hex). */
    makeKey(uid: string): string {
      gpg('--quick-gen-key', uid, 'ed25519', 'sign', 'never');
      const colons = gpg('--with-colons', '--list-keys', uid).toString();
      return /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
    },
    /** An armored detached signature of `data` by `uid`. */
    sign(data: Buffer, uid: string): Buffer {
      const path = join(home.path, 'to-sign');
      writeFileSync(path, data);
      return gpg('--local-user', uid, '--armor', '--detach-sign', '--output', '-', path);
    },
    remove: () => home.remove(),
  };
}
