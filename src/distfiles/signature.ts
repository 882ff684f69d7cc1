import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { Dispatcher } from 'undici';
import request from 'undici/lib/api/api-request.js';
import { findTool } from '../host/tools.js';
import { pathOf } from './http-download.js';
import type { SignaturePin } from './lock-schema.js';

const run = promisify(execFile);

/** Detached signatures are a few hundred bytes; anything much larger is not one. */
const MAX_SIGNATURE_BYTES = 64 << 10;

/**
 * Checks `path` against the entry's detached OpenPGP signature with gpgv (GnuPG's standalone
 * verifier, Debian package gpgv), using only the key file `keyPath` as keyring: accepted only
 * when gpgv reports a good signature (GOODSIG) made by the pinned fingerprint, as the signing
 * key or as its primary key (VALIDSIG). Each signature URL is tried in turn. `work` is a
 * scratch directory, removed at the end. Returns why the file is refused, or undefined when it
 * is accepted.
 */
export async function checkSignature(path: string, pin: SignaturePin, keyPath: string, dispatcher: Dispatcher, work: string): Promise<string | undefined> {
  const gpgv = findTool('gpgv');
  try {
    const keyring = join(work, 'keyring.gpg');
    await writeFile(keyring, binaryKeys(await readFile(keyPath)));
    const problems: string[] = [];
    for (const url of pin.urls) {
      const signature = await download(url, dispatcher).catch((error: unknown) => new Error(`${url}: ${(error as Error).message}`));
      if (signature instanceof Error) {
        problems.push(signature.message);
        continue;
      }
      const sigPath = join(work, 'signature');
      await writeFile(sigPath, signature);
      const verdict = await verify(gpgv, keyring, sigPath, path, pin.fingerprint, work);
      if (verdict === undefined) return undefined;
      problems.push(`${url}: ${verdict}`);
    }
    return `signature not accepted: ${problems.join('; ')}`;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Why gpgv does not vouch for `file` as signed by `fingerprint`, or undefined. */
async function verify(gpgv: string, keyring: string, sigPath: string, file: string, fingerprint: string, home: string): Promise<string | undefined> {
  let status: string;
  try {
    const result = await run(gpgv, ['--homedir', home, '--status-fd', '1', '--keyring', keyring, '--', sigPath, file], { env: { ...process.env, LC_ALL: 'C' } });
    status = result.stdout;
  } catch (error) {
    const out = `${String((error as { stdout?: unknown }).stdout ?? '')}`;
    const bad = /^\[GNUPG:\] (BADSIG|ERRSIG|NO_PUBKEY|EXPKEYSIG|REVKEYSIG)\b.*$/m.exec(out)?.[0];
    return `gpgv refused it (${bad ?? String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n').pop()})`;
  }
  const lines = status.split('\n');
  if (!lines.some((l) => l.startsWith('[GNUPG:] GOODSIG '))) return 'gpgv reported no good signature';
  const want = fingerprint.toUpperCase();
  const valid = lines.filter((l) => l.startsWith('[GNUPG:] VALIDSIG ')).map((l) => l.split(' '));
  // VALIDSIG <signing key fpr> <date> <time> <expire> <version> <reserved> <algo> <hash> <class> <primary key fpr>
  if (valid.some((f) => f[2] === want || f[f.length - 1] === want)) return undefined;
  const by = valid.map((f) => f[f.length - 1]).join(', ') || 'an unknown key';
  return `signed by ${by}, not by the pinned key ${want}`;
}

/**
 * gpgv reads binary keyrings: a key file may be ASCII-armored and gzipped (Gentoo ships its
 * release keys as gentoo-release.asc.<date>.gz), so both are undone here.
 */
export function binaryKeys(data: Buffer): Buffer {
  const plain = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data;
  const text = plain.toString('latin1');
  if (!text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----')) return plain;
  const blocks = text.split('-----BEGIN PGP PUBLIC KEY BLOCK-----').slice(1);
  return Buffer.concat(blocks.map((block) => dearmor(block.split('-----END PGP PUBLIC KEY BLOCK-----')[0]!)));
}

/** The base64 body of one armored block: after the header lines (up to the empty line), before the `=` checksum. */
function dearmor(body: string): Buffer {
  const lines = body.split(/\r?\n/);
  const empty = lines.findIndex((line, i) => i > 0 && line.trim() === '');
  const data = lines.slice(empty + 1).filter((line) => line.trim() !== '' && !line.startsWith('='));
  return Buffer.from(data.join(''), 'base64');
}

async function download(url: string, dispatcher: Dispatcher): Promise<Buffer> {
  const response = await request.call(dispatcher, { origin: new URL(url).origin, path: pathOf(url), method: 'GET' });
  if (response.statusCode !== 200) {
    await response.body.dump();
    throw new Error(`HTTP ${response.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    size += (chunk as Buffer).length;
    if (size > MAX_SIGNATURE_BYTES) {
      response.body.destroy();
      throw new Error(`more than ${MAX_SIGNATURE_BYTES} bytes: not a detached signature`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
