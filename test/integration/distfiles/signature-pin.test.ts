import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readLock } from '../../../src/distfiles/read-lock.js';
import type { FetchTuning } from '../../../src/distfiles/tuning.js';
import { pinnedEntry, writeTestLock } from '../../helpers/distfiles-lock.js';
import { GPG_SKIP, hasGpgTools, testKeyring } from '../../helpers/gpg-keys.js';
import { useFetchFixture } from '../../helpers/fetch-fixture.js';

/**
 * An entry pinned by a detached OpenPGP signature and its key's fingerprint: keys made in the
 * test with the real gpg (in a throwaway GNUPGHOME), the file, its signature and the key file
 * served from 127.0.0.1, and the real gpgv deciding.
 */

const fast: Partial<FetchTuning> = { backoffMs: 10, bodyTimeoutMs: 2000, headersTimeoutMs: 2000, attempts: 2 };
const f = useFetchFixture('distfiles-signature-');
const keyring = testKeyring();
const tools = hasGpgTools;
const { gpg, makeKey, sign } = keyring;

let release = '';
let other = '';
beforeAll(() => {
  if (!tools) return;
  release = makeKey('Release <release@example.org>');
  other = makeKey('Someone Else <else@example.org>');
});
afterAll(() => keyring.remove());

/** The key file as Gentoo ships its release keys: armored and gzipped, itself pinned by its digests. */
function serveKey(): { name: string; entry: ReturnType<typeof pinnedEntry> } {
  const key = gzipSync(gpg('--armor', '--export', release));
  f.server.route('/keys/release.asc.gz', key);
  return { name: 'release.asc.gz', entry: pinnedEntry(key, [`${f.server.url}/keys/release.asc.gz`]) };
}

async function lockFor(signatureUrls: string[], fingerprint = release): Promise<void> {
  const key = serveKey();
  await writeTestLock(f.lockPath, {
    [key.name]: key.entry,
    'snap.sqfs': {
      size: null,
      integrity: null,
      urls: [`${f.server.url}/snap.sqfs`],
      kind: 'repo-snapshot',
      from: 'test: pinned by its signature',
      signature: { urls: signatureUrls, key: key.name, fingerprint: fingerprint.toLowerCase() },
    },
  });
}

describe('entries pinned by an OpenPGP signature', () => {
  it('accepts the file gpgv finds signed by the pinned key, then records its digests in the lock', async (ctx) => {
    if (!tools) ctx.skip(GPG_SKIP);
    const body = randomBytes(300_000);
    f.server.route('/snap.sqfs', body);
    f.server.route('/snap.sqfs.asc', sign(body, release));
    await lockFor([`${f.server.url}/gone.asc`, `${f.server.url}/snap.sqfs.asc`]);
    const result = await f.ensure({ names: ['snap.sqfs'], tuning: fast });
    expect(readFileSync(result['snap.sqfs']!.path).equals(body)).toBe(true);
    const entry = (await readLock(f.lockPath)).distfiles['snap.sqfs']!;
    expect(entry.size).toBe(body.length);
    expect(entry.integrity).toBe(result['snap.sqfs']!.integrity);
    expect(entry.integrity).toMatch(/^sha512-\S+ blake2b512-\S+$/);
    expect(entry.from).toMatch(new RegExp(`^verified with gpgv against its OpenPGP signature by key ${release.toLowerCase()} \\(${f.server.url}/snap.sqfs, \\d{4}-\\d\\d-\\d\\d\\)$`));
    expect(entry.signature).toBeDefined();
    // From now on the digests decide, as for any pinned entry.
    const again = await f.ensure({ names: ['snap.sqfs'], tuning: fast });
    expect(again['snap.sqfs']!.integrity).toBe(entry.integrity);
  });

  it('refuses a file that does not match its signature, and keeps it out of the store', async (ctx) => {
    if (!tools) ctx.skip(GPG_SKIP);
    const body = randomBytes(100_000);
    f.server.route('/snap.sqfs', Buffer.concat([body, Buffer.from('tampered')]));
    f.server.route('/snap.sqfs.asc', sign(body, release));
    await lockFor([`${f.server.url}/snap.sqfs.asc`]);
    const error = await f.ensure({ names: ['snap.sqfs'], tuning: fast }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EFETCH' });
    expect(String((error as { found?: unknown }).found)).toMatch(/signature not accepted: .*gpgv refused it \(\[GNUPG:\] BADSIG/);
    expect(existsSync(join(f.storeDir, 'snap.sqfs'))).toBe(false);
    expect(readdirSync(join(f.storeDir, '.bad')).some((n) => n.startsWith('snap.sqfs.bad-'))).toBe(true);
    expect((await readLock(f.lockPath)).distfiles['snap.sqfs']!.integrity).toBeNull();
  });

  it('refuses a good signature by another key than the pinned one', async (ctx) => {
    if (!tools) ctx.skip(GPG_SKIP);
    const body = randomBytes(100_000);
    f.server.route('/snap.sqfs', body);
    f.server.route('/snap.sqfs.asc', sign(body, other));
    // The key file holds both keys; only the pinned fingerprint counts.
    const both = gzipSync(gpg('--armor', '--export', release, other));
    f.server.route('/keys/release.asc.gz', both);
    await writeTestLock(f.lockPath, {
      'release.asc.gz': pinnedEntry(both, [`${f.server.url}/keys/release.asc.gz`]),
      'snap.sqfs': {
        size: null,
        integrity: null,
        urls: [`${f.server.url}/snap.sqfs`],
        kind: 'repo-snapshot',
        from: 'test',
        signature: { urls: [`${f.server.url}/snap.sqfs.asc`], key: 'release.asc.gz', fingerprint: release.toLowerCase() },
      },
    });
    const error = await f.ensure({ names: ['snap.sqfs'], tuning: fast }).catch((e: unknown) => e);
    expect(String((error as { found?: unknown }).found)).toContain(`signed by ${other}, not by the pinned key ${release}`);
    expect(existsSync(join(f.storeDir, 'snap.sqfs'))).toBe(false);
  });

  it('checks a file already in the store against the signature too: a wrong one is set aside and fetched again', async (ctx) => {
    if (!tools) ctx.skip(GPG_SKIP);
    const body = randomBytes(50_000);
    f.server.route('/snap.sqfs', body);
    f.server.route('/snap.sqfs.asc', sign(body, release));
    await lockFor([`${f.server.url}/snap.sqfs.asc`]);
    mkdirSync(f.storeDir, { recursive: true });
    writeFileSync(join(f.storeDir, 'snap.sqfs'), randomBytes(50_000));
    const result = await f.ensure({ names: ['snap.sqfs'], tuning: fast });
    expect(readFileSync(result['snap.sqfs']!.path).equals(body)).toBe(true);
    expect(f.events.find((e) => e.type === 'mismatch')).toMatchObject({ name: 'snap.sqfs', found: expect.stringContaining('BADSIG') });
    expect(readdirSync(join(f.storeDir, '.bad')).some((n) => n.startsWith('snap.sqfs.bad-'))).toBe(true);
  });

  it('is not trust on first use: fetch needs no --pin for it', async (ctx) => {
    if (!tools) ctx.skip(GPG_SKIP);
    const body = randomBytes(1000);
    f.server.route('/snap.sqfs', body);
    f.server.route('/snap.sqfs.asc', sign(body, release));
    await lockFor([`${f.server.url}/snap.sqfs.asc`]);
    await expect(f.ensure({ names: ['snap.sqfs'], tuning: fast, pin: false })).resolves.toHaveProperty('snap.sqfs');
  });
});
