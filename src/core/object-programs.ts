/**
 * An object's programs and their ELF sections, read from the file's symbol table alone — no
 * BTF parse, no libbpf: cheap enough to look at every tracker's object (`eunomia doctor`).
 */
import { readElfSectionList, SHT_STRTAB, SHT_SYMTAB, STT_FUNC } from './elf.js';
import { EunomiaError, ErrorCodes } from './errors.js';

const SHF_EXECINSTR = 0x4;
const SYM_SIZE = 24;

export interface ObjectProgram {
  /** Function name: what libbpf calls the program. */
  name: string;
  /** ELF section, e.g. "tp/syscalls/sys_enter_openat". */
  section: string;
}

/**
 * Functions in executable sections other than .text (which holds subprograms). Only their names
 * are decoded: a tracker's symbol table is mostly labels and data (decoding every entry, as
 * readElfSymbols does, allocated ~4 MB over the catalogue's objects for each report).
 */
export function objectPrograms(elf: Buffer): ObjectProgram[] {
  const sections = readElfSectionList(elf);
  const exec = new Map(sections.filter((s) => s.flags & SHF_EXECINSTR && s.name !== '.text' && s.size > 0).map((s) => [s.index, s.name]));
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const strtab = symtab ? sections[symtab.link] : undefined;
  if (!symtab || !strtab || strtab.type !== SHT_STRTAB) return []; // no symbols: no programs
  const out: ObjectProgram[] = [];
  const data = symtab.data;
  for (let p = 0; p + SYM_SIZE <= data.length; p += SYM_SIZE) {
    const section = exec.get(data.readUInt16LE(p + 6));
    if (section === undefined || (data[p + 4]! & 0xf) !== STT_FUNC) continue;
    const off = data.readUInt32LE(p);
    const end = strtab.data.indexOf(0, off);
    if (off >= strtab.data.length || end < 0) throw new EunomiaError(ErrorCodes.OBJECT_INVALID, `invalid eBPF object: a symbol's name at ${off} runs past its string table`);
    out.push({ name: strtab.data.toString('utf8', off, end), section });
  }
  return out;
}
