/**
 * Recognises prebuilt executables and objects from the first bytes of a file. Every rule checks
 * more than a magic number where a text or data file could plausibly start with the same bytes,
 * because a false positive fails an audit and trains people to ignore it.
 */

export type BinaryKind =
  | 'elf'
  | 'pe'
  | 'mz'
  | 'coff'
  | 'macho'
  | 'macho-fat'
  | 'java-class'
  | 'wasm'
  | 'ar'
  | 'llvm-bitcode';

export interface Classification {
  kind: BinaryKind;
  /** What the header says, e.g. `ELF 64-bit LSB executable, x86-64`. */
  detail: string;
}

/** How many leading bytes `classify` wants; a PE header usually sits within the first 512. */
export const HEAD_BYTES = 4096;

const ELF_MACHINES: Record<number, string> = {
  2: 'SPARC', 3: 'i386', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 'S/390', 40: 'ARM',
  43: 'SPARC V9', 50: 'IA-64', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};
const ELF_TYPES: Record<number, string> = {
  1: 'relocatable object', 2: 'executable', 3: 'shared object or PIE', 4: 'core dump',
};
const COFF_MACHINES: Record<number, string> = {
  0x14c: 'i386', 0x8664: 'x86-64', 0x1c0: 'ARM', 0x1c4: 'ARMv7 Thumb', 0xaa64: 'ARM64',
  0x200: 'IA-64', 0x166: 'MIPS', 0x1f0: 'PowerPC',
};
const MACHO_CPUS: Record<number, string> = {
  7: 'i386', 0x01000007: 'x86-64', 12: 'ARM', 0x0100000c: 'ARM64', 18: 'PowerPC', 0x01000012: 'PowerPC64',
};
const MACHO_FILETYPES: Record<number, string> = {
  1: 'object', 2: 'executable', 3: 'fixed VM library', 4: 'core', 5: 'preload', 6: 'dylib',
  7: 'dylinker', 8: 'bundle', 9: 'dylib stub', 10: 'dSYM', 11: 'kext bundle', 12: 'fileset',
};

function startsWith(head: Buffer, bytes: number[]): boolean {
  return head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
}

function classifyElf(head: Buffer): Classification | null {
  if (!startsWith(head, [0x7f, 0x45, 0x4c, 0x46]) || head.length < 20) return null;
  const cls = head[4];
  const data = head[5];
  // EI_VERSION is 1 in every ELF ever written; checking it rules out files that merely start with 0x7f"ELF".
  if ((cls !== 1 && cls !== 2) || (data !== 1 && data !== 2) || head[6] !== 1) return null;
  const u16 = (o: number) => (data === 1 ? head.readUInt16LE(o) : head.readUInt16BE(o));
  const type = ELF_TYPES[u16(16)] ?? `type ${u16(16)}`;
  const machine = ELF_MACHINES[u16(18)] ?? `machine ${u16(18)}`;
  return { kind: 'elf', detail: `ELF ${cls === 1 ? 32 : 64}-bit ${data === 1 ? 'LSB' : 'MSB'} ${type}, ${machine}` };
}

function classifyMz(head: Buffer, size: number | undefined): Classification | null {
  if (!startsWith(head, [0x4d, 0x5a]) || head.length < 64) return null;
  const peOffset = head.readUInt32LE(0x3c);
  if (peOffset + 24 <= head.length && head.readUInt32BE(peOffset) === 0x50450000) {
    const machine = head.readUInt16LE(peOffset + 4);
    const characteristics = head.readUInt16LE(peOffset + 22);
    const optMagic = peOffset + 26 <= head.length ? head.readUInt16LE(peOffset + 24) : 0;
    const flavour = optMagic === 0x20b ? 'PE32+' : optMagic === 0x10b ? 'PE32' : 'PE';
    const role = characteristics & 0x2000 ? 'DLL' : 'executable';
    return { kind: 'pe', detail: `${flavour} ${role}, ${COFF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`}` };
  }
  // A DOS executable without a PE header: believe it only when the DOS header is self-consistent
  // (last-page bytes < 512, at least one page, header of at least 2 paragraphs, relocation table
  // inside the header), since "MZ" is also an ordinary way for a text file to start.
  const lastPage = head.readUInt16LE(2);
  const pages = head.readUInt16LE(4);
  const headerParagraphs = head.readUInt16LE(8);
  const relocOffset = head.readUInt16LE(0x18);
  const plausible =
    lastPage < 512 && pages > 0 && headerParagraphs >= 2 && relocOffset >= 0x1c &&
    relocOffset <= headerParagraphs * 16 && (size === undefined || (pages - 1) * 512 <= size);
  if (!plausible) return null;
  const beyond = peOffset >= head.length && (size === undefined || peOffset < size);
  return {
    kind: 'mz',
    detail: beyond ? `DOS MZ executable (PE header offset 0x${peOffset.toString(16)} not inspected)` : 'DOS MZ executable',
  };
}

function classifyCoff(head: Buffer, size: number | undefined): Classification | null {
  if (head.length < 60) return null;
  const machine = head.readUInt16LE(0);
  const name = COFF_MACHINES[machine];
  if (name === undefined) return null;
  const sections = head.readUInt16LE(2);
  const symbolTable = head.readUInt32LE(8);
  const optionalHeader = head.readUInt16LE(16);
  // Objects carry no optional header; the first section header follows at offset 20 and its
  // name is short printable ASCII padded with NULs (".text", ".drectve", "/4" for long names).
  if (sections < 1 || sections > 4096 || optionalHeader !== 0) return null;
  if (size !== undefined && (symbolTable > size || 20 + sections * 40 > size)) return null;
  const sectionName = head.subarray(20, 28);
  const end = sectionName.indexOf(0) === -1 ? 8 : sectionName.indexOf(0);
  if (end === 0 || !(sectionName[0] === 0x2e || sectionName[0] === 0x2f)) return null;
  for (let i = 0; i < 8; i++) {
    const c = sectionName[i]!;
    if (i < end ? c < 0x21 || c > 0x7e : c !== 0) return null;
  }
  const rawData = head.readUInt32LE(20 + 20);
  if (size !== undefined && rawData > size) return null;
  return { kind: 'coff', detail: `COFF object, ${name}, ${sections} section${sections === 1 ? '' : 's'}` };
}

function classifyMachO(head: Buffer): Classification | null {
  if (head.length < 16) return null;
  const magic = head.readUInt32BE(0);
  const forms: Record<number, [bits: number, little: boolean]> = {
    0xfeedface: [32, false], 0xfeedfacf: [64, false], 0xcefaedfe: [32, true], 0xcffaedfe: [64, true],
  };
  const form = forms[magic];
  if (form === undefined) return null;
  const [bits, little] = form;
  const u32 = (o: number) => (little ? head.readUInt32LE(o) : head.readUInt32BE(o));
  const fileType = MACHO_FILETYPES[u32(12)];
  if (fileType === undefined) return null;
  const cpu = MACHO_CPUS[u32(4)] ?? `cpu 0x${u32(4).toString(16)}`;
  return { kind: 'macho', detail: `Mach-O ${bits}-bit ${little ? 'LE' : 'BE'} ${fileType}, ${cpu}` };
}

/**
 * 0xCAFEBABE opens both a fat Mach-O and a Java class file. A fat header's next word is the
 * number of architectures (a handful); a class file's is minor and major version, and every
 * major version is 45 or more, so the word as a whole is at least 45.
 */
function classifyCafebabe(head: Buffer): Classification | null {
  if (head.length < 8) return null;
  const magic = head.readUInt32BE(0);
  if (magic === 0xcafebabf) {
    const n = head.readUInt32BE(4);
    return n >= 1 && n < 45 ? { kind: 'macho-fat', detail: `Mach-O universal (64-bit offsets), ${n} architectures` } : null;
  }
  if (magic !== 0xcafebabe) return null;
  const word = head.readUInt32BE(4);
  if (word >= 1 && word < 45) {
    return { kind: 'macho-fat', detail: `Mach-O universal binary, ${word} architecture${word === 1 ? '' : 's'}` };
  }
  const minor = head.readUInt16BE(4);
  const major = head.readUInt16BE(6);
  if (major >= 45 && major < 100) {
    return { kind: 'java-class', detail: `Java class file, version ${major}.${minor}` };
  }
  return null;
}

function classifyOther(head: Buffer): Classification | null {
  const ascii = head.subarray(0, 8).toString('latin1');
  if (ascii === '!<arch>\n') {
    const firstMember = head.subarray(8, 24).toString('latin1').trimEnd();
    const what = firstMember === 'debian-binary' ? 'Debian binary package' : firstMember === '/' || firstMember === '/SYM64/' ? 'static library with symbol index' : 'ar archive';
    return { kind: 'ar', detail: what };
  }
  if (ascii === '!<thin>\n') return { kind: 'ar', detail: 'thin ar archive' };
  if (startsWith(head, [0x00, 0x61, 0x73, 0x6d]) && head.length >= 8) {
    const version = head.readUInt32LE(4);
    if (version === 1) return { kind: 'wasm', detail: 'WebAssembly module, version 1' };
    if (version === 0x1000d) return { kind: 'wasm', detail: 'WebAssembly component' };
    return null;
  }
  if (startsWith(head, [0x42, 0x43, 0xc0, 0xde])) return { kind: 'llvm-bitcode', detail: 'LLVM bitcode' };
  if (startsWith(head, [0xde, 0xc0, 0x17, 0x0b])) return { kind: 'llvm-bitcode', detail: 'LLVM bitcode (wrapped)' };
  return null;
}

/**
 * Classifies a file from its first bytes (at least HEAD_BYTES of them when the file is that
 * long). `size`, when known, rules out headers that point past the end of the file.
 * Returns null for anything that is not a recognised executable, object or library.
 */
export function classify(head: Buffer, size?: number): Classification | null {
  return (
    classifyElf(head) ??
    classifyMz(head, size) ??
    classifyMachO(head) ??
    classifyCafebabe(head) ??
    classifyOther(head) ??
    classifyCoff(head, size)
  );
}
