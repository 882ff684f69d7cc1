import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { tarMembers, type TarHead } from '../../../src/audit/tar-members.js';
import { makeTarball, writeTree } from '../../helpers/audit-archives.js';
import { tempDir } from '../../helpers/env.js';

let tmp: { path: string; remove: () => void };
beforeEach(() => {
  tmp = tempDir('bootstrap-audit-tar-');
});
afterEach(() => tmp.remove());

/** Yields `bytes` in small chunks and records whether the reader let it go. */
function source(bytes: Buffer) {
  const state = { released: false, served: 0 };
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      for (let at = 0; at < bytes.length; at += 4096) {
        state.served = at;
        yield bytes.subarray(at, at + 4096);
      }
    } finally {
      state.released = true;
    }
  }
  return { state, chunks: chunks() };
}

it('yields members in order with their sizes, and bodies that read back exactly', async () => {
  const big = Buffer.alloc(300_000, 'b');
  const tar = readFileSync(makeTarball(join(tmp.path, 'a.tar'), { 'a.txt': 'alpha\n', 'big.bin': big, 'z/zeta.txt': 'zeta\n' }, 'pkg'));
  const seen: Array<[string, string, number, number]> = [];
  for await (const member of tarMembers(source(tar).chunks)) {
    let length = 0;
    for await (const chunk of member.body) length += chunk.length;
    seen.push([member.path, member.type, member.size, length]);
  }
  seen.sort((a, b) => a[0].localeCompare(b[0]));
  expect(seen).toEqual([
    ['pkg/', 'Directory', 0, 0],
    ['pkg/a.txt', 'File', 6, 6],
    ['pkg/big.bin', 'File', 300_000, 300_000],
    ['pkg/z/', 'Directory', 0, 0],
    ['pkg/z/zeta.txt', 'File', 5, 5],
  ]);
});

it('skips what a consumer leaves unread, and releases the input when it stops early', async () => {
  const tar = readFileSync(makeTarball(join(tmp.path, 'b.tar'), { 'one.bin': Buffer.alloc(200_000, 1), 'two.bin': Buffer.alloc(200_000, 2), 'three.bin': Buffer.alloc(200_000, 3) }, 'p'));
  const skipping = source(tar);
  let files = 0;
  for await (const member of tarMembers(skipping.chunks)) if (member.type === 'File') files++;
  expect(files).toBe(3);

  const stopping = source(tar);
  for await (const member of tarMembers(stopping.chunks)) {
    if (member.type === 'File') {
      await member.body.peek(10);
      break;
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(stopping.state.released).toBe(true);
  expect(stopping.state.served).toBeLessThan(tar.length - 4096);
});

it('throws on a truncated archive instead of waiting for bytes that never come', async () => {
  const tar = readFileSync(makeTarball(join(tmp.path, 'c.tar'), { 'big.bin': Buffer.alloc(100_000, 7) }, 'p'));
  const read = async () => {
    for await (const member of tarMembers(source(tar.subarray(0, 50_000)).chunks)) await member.body.drain();
  };
  await expect(read()).rejects.toThrow(/Truncated input|TAR_BAD_ARCHIVE/);
});

it('reads long paths as GNU tar writes them in each format (ustar prefix, GNU long name, pax), and sizes from pax', async () => {
  const long = `${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name.txt`;
  const dir = join(tmp.path, 'tree');
  mkdirSync(join(dir, dirname(long)), { recursive: true });
  writeFileSync(join(dir, long), 'long\n');
  for (const format of ['ustar', 'gnu', 'pax']) {
    const tar = join(tmp.path, `${format}.tar`);
    execFileSync('tar', [`--format=${format}`, '-cf', tar, '-C', dir, long]);
    const seen: Array<[string, string, number, string]> = [];
    for await (const member of tarMembers(source(readFileSync(tar)).chunks)) seen.push([member.path, member.type, member.size, String(await member.body.peek(100))]);
    expect(seen, format).toEqual([[long, 'File', 5, 'long\n']]);
  }
});

it('with head: shows each member its first bytes in order, yields only those it wants whole, and skips the rest of the others', async () => {
  writeTree(join(tmp.path, 'h'), { 'a.txt': 'alpha\n', 'b.bin': Buffer.alloc(300_000, 'b'), 'c.gz': Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(200_000, 'c')]), 'd.txt': 'delta\n' });
  execFileSync('tar', ['-cf', join(tmp.path, 'h.tar'), '-C', tmp.path, '--no-recursion', 'h', 'h/a.txt', 'h/b.bin', 'h/c.gz', 'h/d.txt']);
  const tar = readFileSync(join(tmp.path, 'h.tar'));
  const events: string[] = [];
  const wantsRest = (member: TarHead) => {
    events.push(`look ${member.path} ${member.type} ${member.size} ${member.head.length} ${member.head.subarray(0, 2).toString('hex')}`);
    return member.head[0] === 0x1f;
  };
  for await (const member of tarMembers(source(tar).chunks, { head: { bytes: 1024, wantsRest } })) {
    // The reader is slow with the member it asked for; the next member waits for it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    let length = 0;
    for await (const chunk of member.body) length += chunk.length;
    events.push(`read ${member.path} ${length}`);
  }
  expect(events).toEqual([
    'look h/ Directory 0 0 ',
    'look h/a.txt File 6 6 616c',
    'look h/b.bin File 300000 1024 6262',
    'look h/c.gz File 200002 1024 1f8b',
    'read h/c.gz 200002',
    'look h/d.txt File 6 6 6465',
  ]);
});

it('with head: throws on a truncated archive, and releases the input when the reader stops early', async () => {
  const tar = readFileSync(makeTarball(join(tmp.path, 'e.tar'), { 'one.bin': Buffer.alloc(100_000, 1), 'two.gz': Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(200_000, 2)]), 'three.bin': Buffer.alloc(200_000, 3) }, 'p'));
  const head = { bytes: 512, wantsRest: (member: TarHead) => member.head[0] === 0x1f };
  const read = async () => {
    for await (const member of tarMembers(source(tar.subarray(0, 50_000)).chunks, { head: { bytes: 512, wantsRest: () => false } })) await member.body.drain();
  };
  await expect(read()).rejects.toThrow(/Truncated input|TAR_BAD_ARCHIVE/);

  const stopping = source(tar);
  for await (const member of tarMembers(stopping.chunks, { head })) {
    expect((await member.body.peek(2)).toString('hex')).toBe('1f8b');
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(stopping.state.released).toBe(true);
  expect(stopping.state.served).toBeLessThan(tar.length - 4096);
});
