import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classify } from '../../../src/audit/classify.js';
import { arArchive, peHeader } from '../../helpers/audit-archives.js';

const hex = (s: string, pad = 64) => Buffer.concat([Buffer.from(s.replace(/\s/g, ''), 'hex'), Buffer.alloc(pad)]);

describe('classify', () => {
  it('recognises the host ELF executable', () => {
    const found = classify(readFileSync('/bin/true').subarray(0, 4096));
    expect(found?.kind).toBe('elf');
    expect(found?.detail).toMatch(/^ELF 64-bit LSB .*x86-64|AArch64/);
  });

  it('describes an ELF relocatable object for i386, big and little endian headers alike', () => {
    const le = hex('7f454c46 010101 00 0000000000000000 0100 0300');
    expect(classify(le)?.detail).toBe('ELF 32-bit LSB relocatable object, i386');
    const be = hex('7f454c46 020201 00 0000000000000000 0002 0014');
    expect(classify(be)?.detail).toBe('ELF 64-bit MSB executable, PowerPC');
  });

  it('does not take a file that merely starts with 0x7f "ELF" for an ELF', () => {
    expect(classify(Buffer.from('\x7fELF is a nice name for a text file, really', 'latin1'))).toBeNull();
  });

  it('recognises PE and DOS MZ executables but not text starting with "MZ"', () => {
    expect(classify(peHeader())).toEqual({ kind: 'pe', detail: 'PE32+ executable, x86-64' });
    expect(classify(Buffer.from(`MZ ${'is how this README starts and goes on for a while. '.repeat(3)}`))).toBeNull();
    const dos = Buffer.alloc(512);
    dos.write('MZ', 0, 'latin1');
    dos.writeUInt16LE(0x90, 2); // bytes on last page
    dos.writeUInt16LE(3, 4); // pages
    dos.writeUInt16LE(4, 8); // header paragraphs
    dos.writeUInt16LE(0x40, 0x18); // relocation table offset
    expect(classify(dos, 1200)?.kind).toBe('mz');
  });

  it('recognises a bare COFF object only when its section table looks like one', () => {
    const obj = Buffer.alloc(200);
    obj.writeUInt16LE(0x8664, 0); // machine
    obj.writeUInt16LE(2, 2); // sections
    obj.writeUInt32LE(150, 8); // symbol table
    obj.write('.text', 20, 'latin1');
    obj.writeUInt32LE(100, 40); // raw data pointer
    expect(classify(obj, 200)).toEqual({ kind: 'coff', detail: 'COFF object, x86-64, 2 sections' });
    const noSection = Buffer.from(obj);
    noSection.write('hello!!!', 20, 'latin1');
    expect(classify(noSection, 200)).toBeNull();
    expect(classify(obj, 120)).toBeNull(); // symbol table past the end of the file
  });

  it.each([
    ['feedface 00000007 00000003 00000002', 'Mach-O 32-bit BE executable, i386'],
    ['feedfacf 01000007 00000003 00000006', 'Mach-O 64-bit BE dylib, x86-64'],
    ['cefaedfe 07000000 03000000 01000000', 'Mach-O 32-bit LE object, i386'],
    ['cffaedfe 0c000001 00000000 02000000', 'Mach-O 64-bit LE executable, ARM64'],
  ])('recognises Mach-O %s', (bytes, detail) => {
    expect(classify(hex(bytes))).toEqual({ kind: 'macho', detail });
  });

  it('tells a fat Mach-O from a Java class file, both 0xCAFEBABE', () => {
    expect(classify(hex('cafebabe 00000002 01000007'))?.kind).toBe('macho-fat');
    expect(classify(hex('cafebabe 0000 0034'))).toEqual({ kind: 'java-class', detail: 'Java class file, version 52.0' });
    expect(classify(hex('cafebabe 0003 002d'))?.kind).toBe('java-class');
    expect(classify(hex('cafebabf 00000002'))?.kind).toBe('macho-fat');
  });

  it('recognises ar archives, WebAssembly and LLVM bitcode', () => {
    expect(classify(arArchive())).toEqual({ kind: 'ar', detail: 'ar archive' });
    expect(classify(Buffer.from('!<arch>\ndebian-binary   1342177280  0     0     100644  4         `\n2.0\n', 'latin1'))?.detail).toBe('Debian binary package');
    expect(classify(hex('0061736d 01000000'))).toEqual({ kind: 'wasm', detail: 'WebAssembly module, version 1' });
    expect(classify(hex('0061736d 02000000'))).toBeNull();
    expect(classify(hex('4243c0de 35140000'))?.kind).toBe('llvm-bitcode');
  });

  it('leaves source files, scripts and data alone', () => {
    for (const text of ['#!/bin/sh\necho hi\n', 'int main(void) { return 0; }\n', '{"json": true}\n', '']) {
      expect(classify(Buffer.from(text))).toBeNull();
    }
    expect(classify(Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'))).toBeNull(); // PNG
  });
});
