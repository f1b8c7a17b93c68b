/**
 * The functions an ELF file defines (.dynsym and .symtab), by name with their address: which of
 * the allocator's functions a C library has, and which are one function under several names
 * (glibc's aligned_alloc is memalign), before anything is attached. ELF64 little-endian only.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

const SHT_SYMTAB = 2;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
/** A symbol table larger than this is not read (a libc's is ~100 KiB, a big static binary's a few MiB). */
const MAX_TABLE = 64 << 20;

function read(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  if (got < length) throw new Error(`truncated at ${offset + got} (wanted ${length} bytes at ${offset})`);
  return buf;
}

/** Defined functions by name → address (st_value); throws when the file is not a readable ELF64 LE file. */
export function elfFunctions(path: string): Map<string, number> {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const eh = read(fd, 0, 64);
    if (eh.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
    if (eh[4] !== 2 || eh[5] !== 1) throw new Error('not a 64-bit little-endian ELF file');
    const shoff = Number(eh.readBigUInt64LE(0x28));
    const shnum = eh.readUInt16LE(0x3c);
    if (shoff === 0 || shnum === 0 || shoff + shnum * SHDR_SIZE > size) throw new Error('no section headers');
    const sh = read(fd, shoff, shnum * SHDR_SIZE);
    const section = (i: number) => ({
      type: sh.readUInt32LE(i * SHDR_SIZE + 4),
      offset: Number(sh.readBigUInt64LE(i * SHDR_SIZE + 24)),
      size: Number(sh.readBigUInt64LE(i * SHDR_SIZE + 32)),
      link: sh.readUInt32LE(i * SHDR_SIZE + 40),
    });
    const out = new Map<string, number>();
    for (let i = 0; i < shnum; i++) {
      const s = section(i);
      if (s.type !== SHT_DYNSYM && s.type !== SHT_SYMTAB) continue;
      if (s.link >= shnum) continue;
      const str = section(s.link);
      if (s.size > MAX_TABLE || str.size > MAX_TABLE || s.offset + s.size > size || str.offset + str.size > size) continue;
      const syms = read(fd, s.offset, s.size);
      const names = read(fd, str.offset, str.size);
      for (let p = 0; p + SYM_SIZE <= syms.length; p += SYM_SIZE) {
        const type = syms[p + 4]! & 0xf;
        const shndx = syms.readUInt16LE(p + 6);
        if ((type !== STT_FUNC && type !== STT_GNU_IFUNC) || shndx === 0) continue;
        const nameOff = syms.readUInt32LE(p);
        const end = names.indexOf(0, nameOff);
        if (nameOff === 0 || end < 0) continue;
        const name = names.toString('latin1', nameOff, end);
        if (!out.has(name)) out.set(name, Number(syms.readBigUInt64LE(p + 8)));
      }
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
