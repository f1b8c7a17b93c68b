/**
 * Minimal ELF64 little-endian reader for eBPF objects: section headers and the symbol table.
 * Objects may come from untrusted sources (hot-loaded over HTTP), so every offset is checked
 * and malformed input becomes EunomiaError(OBJECT_INVALID), never a RangeError.
 */
import { EunomiaError, ErrorCodes } from './errors.js';

export const EM_BPF = 247;
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOBITS = 8;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;

export interface ElfSection {
  name: string;
  type: number;
  offset: number;
  /** Size in the file; for SHT_NOBITS (.bss) the size in memory, while `data` is empty. */
  size: number;
  /** A view into the object buffer (not a copy). */
  data: Buffer;
  /** Section header index (what symbols' `shndx` refers to). */
  index: number;
  flags: number;
  link: number;
  info: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  /** Offset within its section for relocatable objects. */
  value: number;
  size: number;
  /** STT_* */
  type: number;
  /** STB_* (0 local, 1 global, 2 weak) */
  bind: number;
  /** Section header index; 0 = undefined (extern). */
  shndx: number;
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

const MACHINES: Record<number, string> = { 3: 'x86', 40: 'ARM', 62: 'x86-64', 183: 'AArch64', 243: 'RISC-V' };

function invalid(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OBJECT_INVALID, `invalid eBPF object: ${msg}`);
}

/** u64 as a number; anything beyond 2^53 cannot be a valid offset in a Buffer anyway. */
function u64(buf: Buffer, off: number, what: string): number {
  // `>>> 0` keeps small values Smis (readUInt32LE may return heap doubles), so offsets
  // derived from them index buffers at full speed.
  const lo = buf.readUInt32LE(off) >>> 0;
  const hi = buf.readUInt32LE(off + 4) >>> 0;
  if (hi >= 0x200000) throw invalid(`${what} is absurdly large`);
  return hi === 0 ? lo : hi * 0x100000000 + lo;
}

function cstring(table: Buffer, off: number, what: string): string {
  if (off >= table.length) throw invalid(`${what}: name offset ${off} is outside its string table (${table.length} bytes)`);
  const end = table.indexOf(0, off);
  if (end < 0) throw invalid(`${what}: name at offset ${off} is not NUL-terminated`);
  return table.toString('utf8', off, end);
}

interface RawHeader {
  shoff: number;
  shnum: number;
  shstrndx: number;
}

function readHeader(buf: Buffer): RawHeader {
  if (!Buffer.isBuffer(buf)) throw invalid('expected a Buffer');
  if (buf.length < 4 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    throw invalid('not an ELF file (bad magic; expected \\x7fELF)');
  }
  if (buf.length < EHDR_SIZE) throw invalid(`truncated ELF header (${buf.length} bytes, need ${EHDR_SIZE})`);
  if (buf[4] !== 2) throw invalid(`ELF class ${buf[4]} (${buf[4] === 1 ? '32-bit' : 'unknown'}); only ELF64 is supported`);
  if (buf[5] !== 1) throw invalid(`ELF data encoding ${buf[5]} (${buf[5] === 2 ? 'big-endian' : 'unknown'}); only little-endian is supported`);
  const machine = buf.readUInt16LE(18) >>> 0;
  if (machine !== EM_BPF) {
    const name = MACHINES[machine] ? ` (${MACHINES[machine]})` : '';
    throw invalid(`ELF machine is ${machine}${name}, expected ${EM_BPF} (BPF) — compile with clang -target bpf`);
  }
  const shoff = u64(buf, 0x28, 'e_shoff');
  const shentsize = buf.readUInt16LE(0x3a);
  let shnum = buf.readUInt16LE(0x3c);
  let shstrndx = buf.readUInt16LE(0x3e);
  if (shoff === 0) return { shoff: 0, shnum: 0, shstrndx: 0 };
  if (shentsize !== SHDR_SIZE) throw invalid(`section header size is ${shentsize}, expected ${SHDR_SIZE}`);
  if (shoff + SHDR_SIZE > buf.length) throw invalid(`section headers at offset ${shoff} are past the end of the file (${buf.length} bytes)`);
  // Extended numbering: counts too large for the header live in section 0.
  if (shnum === 0) shnum = u64(buf, shoff + 32, 'section count');
  if (shstrndx === SHN_XINDEX) shstrndx = buf.readUInt32LE(shoff + 40) >>> 0;
  if (shoff + shnum * SHDR_SIZE > buf.length) {
    throw invalid(`${shnum} section headers at offset ${shoff} run past the end of the file (${buf.length} bytes) — truncated?`);
  }
  if (shnum > 0 && shstrndx >= shnum) throw invalid(`section name table index ${shstrndx} is out of range (${shnum} sections)`);
  return { shoff, shnum, shstrndx };
}

/** All sections in header order (names may repeat, unlike readElfSections' map). */
export function readElfSectionList(buf: Buffer): ElfSection[] {
  const { shoff, shnum, shstrndx } = readHeader(buf);
  const raw: Omit<ElfSection, 'name'>[] = [];
  const nameOffs: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * SHDR_SIZE;
    const type = buf.readUInt32LE(h + 4) >>> 0;
    const offset = u64(buf, h + 24, `section ${i} offset`);
    const size = u64(buf, h + 32, `section ${i} size`);
    const hasData = type !== SHT_NOBITS && type !== SHT_NULL;
    if (hasData && offset + size > buf.length) {
      throw invalid(`section ${i} (offset ${offset}, ${size} bytes) runs past the end of the file (${buf.length} bytes) — truncated?`);
    }
    nameOffs.push(buf.readUInt32LE(h) >>> 0);
    raw.push({
      type,
      offset,
      size,
      data: hasData ? buf.subarray(offset, offset + size) : buf.subarray(0, 0),
      index: i,
      flags: u64(buf, h + 8, `section ${i} flags`),
      link: buf.readUInt32LE(h + 40) >>> 0,
      info: buf.readUInt32LE(h + 44) >>> 0,
      entsize: u64(buf, h + 56, `section ${i} entsize`),
    });
  }
  if (shnum === 0) return [];
  const strtab = raw[shstrndx]!;
  if (strtab.type !== SHT_STRTAB) throw invalid(`section name table (section ${shstrndx}) is not a string table`);
  return raw.map((s, i) => ({ name: i === 0 ? '' : cstring(strtab.data, nameOffs[i]!, `section ${i}`), ...s }));
}

/** Sections by name; the first wins if a name repeats. ELF64 LE with e_machine EM_BPF only. */
export function readElfSections(buf: Buffer): Map<string, ElfSection> {
  const map = new Map<string, ElfSection>();
  for (const s of readElfSectionList(buf)) if (s.index !== 0 && !map.has(s.name)) map.set(s.name, s);
  return map;
}

/** Symbols of the (first) SHT_SYMTAB section; [] when the object has none. Index 0 (null symbol) is included. */
export function readElfSymbols(buf: Buffer, sections: ElfSection[] = readElfSectionList(buf)): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  if (!symtab) return [];
  if (symtab.entsize !== 0 && symtab.entsize !== SYM_SIZE) throw invalid(`symbol table entry size is ${symtab.entsize}, expected ${SYM_SIZE}`);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT_STRTAB) throw invalid(`symbol table links to section ${symtab.link}, which is not a string table`);
  const data = symtab.data;
  const n = Math.floor(data.length / SYM_SIZE);
  const out: ElfSymbol[] = [];
  for (let i = 0; i < n; i++) {
    const p = i * SYM_SIZE;
    const nameOff = data.readUInt32LE(p) >>> 0;
    const info = data[p + 4]!;
    out.push({
      name: nameOff === 0 ? '' : cstring(strtab.data, nameOff, `symbol ${i}`),
      value: u64(data, p + 8, `symbol ${i} value`),
      size: u64(data, p + 16, `symbol ${i} size`),
      type: info & 0xf,
      bind: info >> 4,
      shndx: data.readUInt16LE(p + 6),
    });
  }
  return out;
}

/** True when `shndx` names a real section (not UNDEF/ABS/COMMON/...). */
export function isRegularSectionIndex(shndx: number): boolean {
  return shndx !== SHN_UNDEF && shndx < SHN_LORESERVE;
}

export const SHT_REL = 9;
const REL_SIZE = 16;

/** One Elf64_Rel entry (BPF objects use REL, the addend is in the patched instruction). */
export interface ElfRelocation {
  /** Byte offset in the patched section; checked to lie inside it. */
  offset: number;
  /** Symbol table index; checked to lie inside the table. */
  symbol: number;
  /** R_BPF_* (1: 64-bit ld_imm64, 10: 32-bit call). */
  type: number;
}

/**
 * The relocations that patch `target`: every SHT_REL section whose sh_info is its index (clang
 * names it ".rel<section>"), in file order.
 */
export function readElfRelocations(sections: ElfSection[], target: ElfSection): ElfRelocation[] {
  const out: ElfRelocation[] = [];
  for (const rel of sections) {
    if (rel.type !== SHT_REL || rel.info !== target.index || rel.index === 0) continue;
    const what = `relocation section ${rel.index} (${rel.name})`;
    if (rel.entsize !== 0 && rel.entsize !== REL_SIZE) throw invalid(`${what}: entry size is ${rel.entsize}, expected ${REL_SIZE}`);
    if (rel.size % REL_SIZE !== 0) throw invalid(`${what}: ${rel.size} bytes is not a whole number of ${REL_SIZE}-byte entries — truncated?`);
    const symtab = sections[rel.link];
    if (!symtab || symtab.type !== SHT_SYMTAB) throw invalid(`${what} links to section ${rel.link}, which is not a symbol table`);
    const symbols = Math.floor(symtab.data.length / SYM_SIZE);
    const data = rel.data;
    for (let p = 0; p < data.length; p += REL_SIZE) {
      const offset = u64(data, p, `${what} offset`);
      const type = data.readUInt32LE(p + 8) >>> 0;
      const symbol = data.readUInt32LE(p + 12) >>> 0;
      if (offset >= target.size) throw invalid(`${what}: entry ${p / REL_SIZE} patches offset ${offset}, outside ${target.name} (${target.size} bytes)`);
      if (symbol >= symbols) throw invalid(`${what}: entry ${p / REL_SIZE} names symbol ${symbol}, outside the symbol table (${symbols} symbols)`);
      out.push({ offset, symbol, type });
    }
  }
  return out;
}

/**
 * eBPF objects embedded in a program, as libbpf skeletons embed theirs (libbpf-tools,
 * `bpftool gen skeleton`): every relocatable EM_BPF ELF image inside `buf` whose section
 * headers are whole and in bounds, each cut to its end (the last section header). What a
 * distribution ships is the tool, not its .bpf.o.
 */
export function embeddedBpfObjects(buf: Buffer): Buffer[] {
  const magic = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
  const out: Buffer[] = [];
  for (let at = buf.indexOf(magic, 1); at > 0; at = buf.indexOf(magic, at + 1)) {
    // ELFCLASS64, little-endian, ET_REL, EM_BPF, 64-byte section headers.
    if (at + EHDR_SIZE > buf.length || buf[at + 4] !== 2 || buf[at + 5] !== 1 || buf.readUInt16LE(at + 16) !== 1 || buf.readUInt16LE(at + 18) !== EM_BPF) continue;
    const shoff = buf.readBigUInt64LE(at + 40);
    const shnum = buf.readUInt16LE(at + 60);
    if (buf.readUInt16LE(at + 58) !== SHDR_SIZE || shnum === 0 || shoff > BigInt(buf.length)) continue;
    const end = at + Number(shoff) + shnum * SHDR_SIZE;
    if (end > buf.length) continue;
    const image = buf.subarray(at, end);
    try {
      readElfSectionList(image);
    } catch {
      continue; // a byte pattern that only looks like a header
    }
    out.push(image);
    at = end - 1;
  }
  return out;
}
