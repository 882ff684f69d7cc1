// A generated source tarball for the audit benchmark: `members` regular files in a few hundred
// folders, most of them text (words at random from a vocabulary, which xz shrinks about as
// much as source code), some incompressible, a few small ELF executables; written as a ustar
// stream straight into one `xz -1` per output (no tree on disk), each with its own xz options
// (e.g. `-T1`, one block as upstream tarballs are; `-T0`, many). The same bytes on every run.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { prng } from './prng.js';

function header(name, size, mode = 0o644, type = '0') {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('14707530000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/**
 * Writes the tarball to each of `outs` (`{ path, xz: [xz options] }`), the same tar compressed by
 * `xz -1 -c` with those options; resolves with its member count and uncompressed size.
 */
export async function writeSourceTarball(outs, { members = 48_000, textBytes = 640 << 20, randomBytes = 48 << 20 } = {}) {
  const next = prng(15);
  const words = Array.from({ length: 5000 }, () => {
    let w = '';
    const n = 2 + (next() % 9);
    for (let i = 0; i < n; i++) w += String.fromCharCode(97 + (next() % 26));
    return w;
  });
  // A 64 MiB pool of text; files are slices of it at random places (xz's 1 MiB window at -1
  // cannot see the repeats).
  const parts = [];
  let have = 0;
  while (have < 64 << 20) {
    let line = '';
    while (line.length < 72) line += `${words[next() % words.length]}${next() % 11 === 0 ? '(' : ' '}`;
    parts.push(line, '\n');
    have += line.length + 1;
  }
  const pool = Buffer.from(parts.join(''));
  const random = Buffer.alloc(4 << 20);
  for (let i = 0; i + 4 <= random.length; i += 4) random.writeUInt32LE(next(), i);
  const elf = Buffer.alloc(4096);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]).copy(elf);
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(62, 18); // x86-64

  const encoders = outs.map(({ path, xz: options }) => {
    const xz = spawn('xz', [...options, '-1', '-c'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const file = createWriteStream(path);
    xz.stdout.pipe(file);
    return { xz, done: Promise.all([once(xz, 'exit'), once(file, 'close')]) };
  });
  const write = async (buf) => {
    await Promise.all(encoders.map(({ xz }) => (xz.stdin.write(buf) ? undefined : once(xz.stdin, 'drain'))));
  };
  const randomCount = 400;
  const elfCount = 40;
  const textCount = members - randomCount - elfCount;
  let total = 0;
  for (let i = 0; i < members; i++) {
    let body;
    if (i % Math.floor(members / elfCount) === 7 && i / Math.floor(members / elfCount) < elfCount) {
      body = elf;
    } else if (i % Math.floor(members / randomCount) === 3) {
      const size = Math.floor(randomBytes / randomCount);
      const at = next() % (random.length - size);
      body = random.subarray(at, at + size);
    } else {
      const mean = Math.floor(textBytes / textCount);
      const size = 64 + (next() % (2 * mean));
      const at = next() % (pool.length - size);
      body = pool.subarray(at, at + size);
    }
    await write(header(`pkg-1.0/src/d${i % 331}/s${i % 17}/f${i}.c`, body.length));
    await write(body);
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) await write(Buffer.alloc(pad));
    total += 512 + body.length + pad;
  }
  await write(Buffer.alloc(1024));
  for (const { xz } of encoders) xz.stdin.end();
  for (const { xz, done } of encoders) {
    await done;
    if (xz.exitCode !== 0) throw new Error(`xz exited with ${xz.exitCode}`);
  }
  return { members, bytes: total + 1024 };
}
