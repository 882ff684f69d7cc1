import { randomBytes } from 'node:crypto';
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../util/errors.js';
import { tempName } from '../util/temp-name.js';

export const STORE_KEY_FILE = '.lock-key';

/**
 * The store's part of its distfile lock names: its device and inode (one store by any path)
 * and a random secret kept in `<store>/.lock-key`, readable only by its owner, so that a local
 * user who cannot read the store cannot compute a name to bind ahead of us. The first process
 * to link its freshly written key into place wins; the others read that one.
 */
export async function storeLockKey(dir: string, identity: { dev: bigint; ino: bigint }): Promise<string> {
  const path = join(dir, STORE_KEY_FILE);
  const secret = await readKey(path);
  if (secret) return `${identity.dev}:${identity.ino}:${secret}`;
  const temp = tempName(path);
  await writeFile(temp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
  } finally {
    await rm(temp, { force: true });
  }
  return `${identity.dev}:${identity.ino}:${await readKey(path)}`;
}

async function readKey(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim() || undefined;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
