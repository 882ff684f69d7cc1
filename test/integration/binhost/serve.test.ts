import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, utimesSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { serveBinhost, type Binhost } from '../../../src/binhost/serve.js';
import { checkPkgdir } from '../../../src/binhost/check.js';
import { isBootstrapError } from '../../../src/util/errors.js';
import { cli } from '../../helpers/cli.js';
import { indexBlock, writePkgdir } from '../../helpers/binpkgs.js';
import { tempDir } from '../../helpers/env.js';

/** The binhost server on 127.0.0.1 over a PKGDIR the test writes (test/helpers/binpkgs.ts). */

const dirs: Array<{ remove: () => void }> = [];
const hosts: Binhost[] = [];
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.server.close();
  for (const d of dirs.splice(0)) d.remove();
});

function pkgdir(packages: Array<{ cpv: string; bytes: Buffer }>): { path: string; files: Record<string, string> } {
  const dir = tempDir('bootstrap-binhost-');
  dirs.push(dir);
  return { path: dir.path, files: writePkgdir(dir.path, packages) };
}

async function serve(path: string, warnings: string[] = []): Promise<Binhost> {
  const host = await serveBinhost({ pkgdir: path, host: '127.0.0.1', port: 0, name: 'test-binhost' }, { warn: (t) => warnings.push(t) });
  hosts.push(host);
  return host;
}

const BZIP2 = Buffer.from('bzip2 package bytes '.repeat(100));
const FIND = Buffer.from('findutils package bytes '.repeat(50));

describe('binhost serve', () => {
  it('serves the index and the listed packages with validators and byte ranges, and prints binrepos.conf', async () => {
    const dir = pkgdir([{ cpv: 'app-arch/bzip2-1.0.8-r5', bytes: BZIP2 }]);
    const host = await serve(dir.path);
    expect(host.conf).toBe(`[test-binhost]\nsync-uri = ${host.url}\npriority = 10\n`);
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);

    const index = await fetch(`${host.url}Packages`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await index.text()).toBe(readFileSync(join(dir.path, 'Packages'), 'utf8'));

    const url = `${host.url}${dir.files['app-arch/bzip2-1.0.8-r5']}`;
    const whole = await fetch(url);
    expect(whole.headers.get('content-type')).toBe('application/x-tar');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(BZIP2);
    const etag = whole.headers.get('etag')!;
    const lastModified = whole.headers.get('last-modified')!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(etag).toBe(`"${createHash('sha512').update(BZIP2).digest('hex').slice(0, 32)}"`);

    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${BZIP2.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(BZIP2.subarray(100, 200));
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(BZIP2.subarray(-10));
    const resumed = await fetch(url, { headers: { range: `bytes=${BZIP2.length - 5}-` } });
    expect(resumed.headers.get('content-range')).toBe(`bytes ${BZIP2.length - 5}-${BZIP2.length - 1}/${BZIP2.length}`);
    const past = await fetch(url, { headers: { range: `bytes=${BZIP2.length}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${BZIP2.length}`);
    // An If-Range that no longer matches gets the whole file.
    const stale = await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': '"other"' } });
    expect(stale.status).toBe(200);
    expect((await fetch(url, { headers: { range: 'bytes=0-9', 'if-range': etag } })).status).toBe(206);

    expect((await fetch(url, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(url, { headers: { 'if-modified-since': lastModified } })).status).toBe(304);
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(BZIP2.length));
  });

  it('is read-only and serves nothing the index does not list', async () => {
    const dir = pkgdir([{ cpv: 'app-arch/bzip2-1.0.8-r5', bytes: BZIP2 }]);
    writeFileSync(join(dir.path, 'app-arch/bzip2/stray.gpkg.tar'), 'not indexed');
    writeFileSync(join(dir.path, 'secret.txt'), 'no');
    const host = await serve(dir.path);
    const put = await fetch(`${host.url}Packages`, { method: 'PUT', body: 'x' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    for (const path of ['secret.txt', 'app-arch/bzip2/stray.gpkg.tar', 'app-arch/bzip2/', '%2e%2e/%2e%2e/etc/passwd', 'Packages.gz']) {
      expect((await fetch(`${host.url}${path}`)).status, path).toBe(404);
    }
  });

  it('refuses a PKGDIR whose index does not match, naming the package and what differs, before binding', async () => {
    const dir = pkgdir([
      { cpv: 'app-arch/bzip2-1.0.8-r5', bytes: BZIP2 },
      { cpv: 'sys-apps/findutils-4.10.0', bytes: FIND },
    ]);
    const file = join(dir.path, dir.files['sys-apps/findutils-4.10.0']!);
    const corrupted = Buffer.from(FIND);
    corrupted[10] ^= 0xff;
    writeFileSync(file, corrupted);
    const error = await serve(dir.path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBootstrapError(error) && error.code).toBe('EBINHOSTMISMATCH');
    const message = (error as Error).message;
    expect(message).toContain('1 of 2 broken');
    expect(message).toMatch(/sys-apps\/findutils-4\.10\.0 \(sys-apps\/findutils\/findutils-4\.10\.0-1\.gpkg\.tar, .*Packages line \d+\): MD5 [0-9a-f]{32}, the index says [0-9a-f]{32}; SHA1/);
    expect(message).not.toContain('bzip2-1.0.8-r5 (');

    writeFileSync(file, FIND.subarray(1));
    const lines: string[] = [];
    expect(await checkPkgdir(dir.path, { json: false, write: (t) => lines.push(t) })).toBe(1);
    expect(lines.join('')).toMatch(/FAIL sys-apps\/findutils-4\.10\.0 .*\n\s+sha512 [0-9a-f]{128}\n\s+size 1199, the index says 1200\n/);
  });

  it('checks the index again when Portage rewrites it, and refuses a package changed after the check', async () => {
    const dir = pkgdir([{ cpv: 'app-arch/bzip2-1.0.8-r5', bytes: BZIP2 }]);
    const warnings: string[] = [];
    const host = await serve(dir.path, warnings);
    // A package added as Portage adds one: the file, then the index.
    mkdirSync(join(dir.path, 'sys-apps/findutils'), { recursive: true });
    writeFileSync(join(dir.path, 'sys-apps/findutils/findutils-4.10.0-1.gpkg.tar'), FIND);
    writeFileSync(join(dir.path, 'Packages'), readFileSync(join(dir.path, 'Packages'), 'utf8') + indexBlock('sys-apps/findutils-4.10.0', 'sys-apps/findutils/findutils-4.10.0-1.gpkg.tar', FIND));
    expect((await fetch(`${host.url}sys-apps/findutils/findutils-4.10.0-1.gpkg.tar`)).status).toBe(404);
    expect((await fetch(`${host.url}Packages`)).status).toBe(200);
    expect(warnings.at(-1)).toBe('index changed: 2 packages checked');
    expect(Buffer.from(await (await fetch(`${host.url}sys-apps/findutils/findutils-4.10.0-1.gpkg.tar`)).arrayBuffer())).toEqual(FIND);

    // Bytes changed behind the index: not served, and the next index read refuses it by name.
    const path = join(dir.path, 'app-arch/bzip2/bzip2-1.0.8-r5-1.gpkg.tar');
    writeFileSync(path, Buffer.from(BZIP2).fill(0x41, 0, 4));
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    const changed = await fetch(`${host.url}app-arch/bzip2/bzip2-1.0.8-r5-1.gpkg.tar`);
    expect(changed.status).toBe(503);
    writeFileSync(join(dir.path, 'Packages'), `${readFileSync(join(dir.path, 'Packages'), 'utf8')}\n`);
    const refused = await fetch(`${host.url}Packages`);
    expect(refused.status).toBe(503);
    expect(await refused.text()).toContain('app-arch/bzip2-1.0.8-r5');
    expect(warnings.at(-1)).toMatch(/^refusing the changed index until it matches again: .*bzip2/s);
  });

  it('warns before binding an address other machines can reach', async () => {
    const dir = pkgdir([{ cpv: 'app-arch/bzip2-1.0.8-r5', bytes: BZIP2 }]);
    const warnings: string[] = [];
    const host = await serveBinhost({ pkgdir: dir.path, host: '0.0.0.0', port: 0, name: 'b', url: 'http://binhost.example:8080/' }, { warn: (t) => warnings.push(t) });
    hosts.push(host);
    expect(warnings[0]).toMatch(/^warning: binding 0\.0\.0\.0 serves every package in .* to anyone who can reach this machine/);
    expect(host.conf).toContain('sync-uri = http://binhost.example:8080/');
    const quiet: string[] = [];
    await serve(dir.path, quiet);
    expect(quiet).toEqual([]);
  });

  it('bootstrap binhost: bad input is one clear line with exit status 2', async () => {
    const empty = tempDir('bootstrap-binhost-empty-');
    dirs.push(empty);
    const noIndex = await cli(['binhost', 'serve', '--pkgdir', empty.path]);
    expect([noIndex.exitCode, noIndex.stderr.split('\n')[0]]).toEqual([2, `error: ${empty.path}/Packages: no Packages index in ${empty.path}`]);
    const port = await cli(['binhost', 'serve', '--pkgdir', empty.path, '--port', '70000']);
    expect([port.exitCode, port.stderr.split('\n')[0]]).toEqual([2, 'error: --port 70000: expected a whole number from 0 to 65535']);
    const none = await cli(['binhost']);
    expect([none.exitCode, none.stderr.split('\n')[0]]).toEqual([2, 'error: Name an action: serve, check or sync.']);
  });
});
