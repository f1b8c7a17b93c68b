/**
 * Reads what symbolization needs from an executable or shared object: the PT_LOAD program
 * headers (to turn a file offset into a virtual address), the GNU build id (the cache key) and
 * the function symbols of `.symtab`, else `.dynsym`. src/core/elf.ts reads eBPF objects only
 * (EM_BPF, whole file in memory); a library can be 100 MB, so this one reads by position only
 * the headers and the two sections it needs. Every offset is checked: a malformed file is an
 * EunomiaError(OBJECT_INVALID), never a RangeError.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { SymbolTable } from './symbol-table.js';

const PT_LOAD = 1;
const PT_NOTE = 4;
const PF_X = 1;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_NOBITS = 8;
const SHT_DYNSYM = 11;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const NT_GNU_BUILD_ID = 3;
const EHDR_SIZE = 64;
const PHDR_SIZE = 56;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const PN_XNUM = 0xffff;
/** More headers than any real file has: a bigger count is corruption, not a reason to allocate. */
const MAX_HEADERS = 1 << 20;
const MAX_NOTES_BYTES = 1 << 16;

export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  exec: boolean;
}

/** What the headers say: enough to key the cache and translate addresses, without the symbols. */
export interface ElfHeaders {
  /** ET_EXEC (2) or ET_DYN (3, PIE executables and shared objects). */
  type: number;
  loads: LoadSegment[];
  /** Lowercase hex of NT_GNU_BUILD_ID, when the file has one. */
  buildId?: string;
  /** Which symbol table the file has: `.symtab` (not stripped), `.dynsym` only, or none. */
  symbols: 'symtab' | 'dynsym' | 'none';
}

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  entsize: number;
  name: number;
}

function invalid(path: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OBJECT_INVALID, `symbols: ${path}: ${msg}`);
}

/** An open ELF file read by position; every read is checked against the file's size. */
export class ElfFile {
  readonly size: number;
  readonly dev: number;
  readonly ino: number;
  readonly mtimeMs: number;
  private fd: number | undefined;
  private sectionsCache: Section[] | undefined;
  private headersCache: ElfHeaders | undefined;

  /** Where in the file the ELF image starts (not 0 for an image read out of memory: the vDSO). */
  private readonly base: number;

  /**
   * Opens `path` (throws the fs error: ENOENT, EACCES … are the caller's to classify).
   * `region` reads an ELF image embedded at an offset of a file, e.g. the vDSO in /proc/self/mem.
   */
  constructor(
    readonly path: string,
    region?: { base: number; size: number },
  ) {
    // Non-blocking: a FIFO put in place of a file (a container's files are not ours) must not hang us.
    this.fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const st = fstatSync(this.fd);
      if (!region && !st.isFile()) throw invalid(path, 'not a regular file');
      this.base = region?.base ?? 0;
      this.size = region?.size ?? st.size;
      this.dev = st.dev;
      this.ino = st.ino;
      this.mtimeMs = st.mtimeMs;
    } catch (e) {
      this.close();
      throw e;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** `len` bytes at `pos`, a fresh buffer (nothing keeps a large read alive by accident). */
  private read(pos: number, len: number, what: string): Buffer {
    if (this.fd === undefined) throw new EunomiaError(ErrorCodes.STATE, `symbols: ${this.path}: read after close`);
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(len) || pos < 0 || len < 0 || pos + len > this.size) {
      throw invalid(this.path, `${what} (offset ${pos}, ${len} bytes) runs past the end of the file (${this.size} bytes) — truncated?`);
    }
    const buf = Buffer.allocUnsafeSlow(len);
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, buf, done, len - done, this.base + pos + done);
      if (n === 0) throw invalid(this.path, `${what}: the file ended early (it shrank while being read?)`);
      done += n;
    }
    return buf;
  }

  private u64(buf: Buffer, off: number, what: string): number {
    const lo = buf.readUInt32LE(off) >>> 0;
    const hi = buf.readUInt32LE(off + 4) >>> 0;
    if (hi >= 0x200000) throw invalid(this.path, `${what} is absurdly large`);
    return hi === 0 ? lo : hi * 0x100000000 + lo;
  }

  private ehdr(): Buffer {
    if (this.size < EHDR_SIZE) throw invalid(this.path, `too short for an ELF header (${this.size} bytes)`);
    const h = this.read(0, EHDR_SIZE, 'ELF header');
    if (h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) throw invalid(this.path, 'not an ELF file');
    if (h[4] !== 2) throw invalid(this.path, `ELF class ${h[4]}: only 64-bit ELF is supported`);
    if (h[5] !== 1) throw invalid(this.path, 'big-endian ELF is not supported');
    return h;
  }

  private sections(h: Buffer): Section[] {
    if (this.sectionsCache) return this.sectionsCache;
    const shoff = this.u64(h, 0x28, 'e_shoff');
    let shnum = h.readUInt16LE(0x3c);
    if (shoff === 0) return (this.sectionsCache = []);
    if (h.readUInt16LE(0x3a) !== SHDR_SIZE) throw invalid(this.path, `section header size ${h.readUInt16LE(0x3a)}, expected ${SHDR_SIZE}`);
    if (shnum === 0) shnum = this.u64(this.read(shoff, SHDR_SIZE, 'section header 0'), 32, 'section count');
    if (shnum > MAX_HEADERS) throw invalid(this.path, `${shnum} section headers`);
    const raw = this.read(shoff, shnum * SHDR_SIZE, 'section headers');
    const out: Section[] = [];
    for (let i = 0; i < shnum; i++) {
      const p = i * SHDR_SIZE;
      out.push({
        name: raw.readUInt32LE(p) >>> 0,
        type: raw.readUInt32LE(p + 4) >>> 0,
        offset: this.u64(raw, p + 24, `section ${i} offset`),
        size: this.u64(raw, p + 32, `section ${i} size`),
        link: raw.readUInt32LE(p + 40) >>> 0,
        entsize: this.u64(raw, p + 56, `section ${i} entsize`),
      });
    }
    return (this.sectionsCache = out);
  }

  /** Program headers, build id and which symbol table exists: a few small reads. */
  headers(): ElfHeaders {
    if (this.headersCache) return this.headersCache;
    const h = this.ehdr();
    const type = h.readUInt16LE(16);
    const phoff = this.u64(h, 0x20, 'e_phoff');
    let phnum = h.readUInt16LE(0x38);
    const sections = this.sections(h);
    if (phnum === PN_XNUM) {
      // Extended numbering: the real count is section 0's sh_info.
      if (sections.length === 0) throw invalid(this.path, 'extended program header count without section headers');
      phnum = this.read(this.u64(h, 0x28, 'e_shoff') + 44, 4, 'section 0 sh_info').readUInt32LE(0) >>> 0;
    }
    if (phnum > MAX_HEADERS) throw invalid(this.path, `${phnum} program headers`);
    if (phnum > 0 && h.readUInt16LE(0x36) !== PHDR_SIZE) throw invalid(this.path, `program header size ${h.readUInt16LE(0x36)}, expected ${PHDR_SIZE}`);
    const ph = phnum > 0 ? this.read(phoff, phnum * PHDR_SIZE, 'program headers') : Buffer.alloc(0);
    const loads: LoadSegment[] = [];
    let buildId: string | undefined;
    for (let i = 0; i < phnum; i++) {
      const p = i * PHDR_SIZE;
      const ptype = ph.readUInt32LE(p) >>> 0;
      const offset = this.u64(ph, p + 8, `program header ${i} offset`);
      const filesz = this.u64(ph, p + 32, `program header ${i} filesz`);
      if (ptype === PT_LOAD) {
        loads.push({
          offset,
          vaddr: this.u64(ph, p + 16, `program header ${i} vaddr`),
          filesz,
          memsz: this.u64(ph, p + 40, `program header ${i} memsz`),
          exec: ((ph.readUInt32LE(p + 4) >>> 0) & PF_X) !== 0,
        });
      } else if (ptype === PT_NOTE && buildId === undefined && filesz > 0 && filesz <= MAX_NOTES_BYTES && offset + filesz <= this.size) {
        buildId = findBuildId(this.read(offset, filesz, 'notes'), this.u64(ph, p + 48, 'note alignment'));
      }
    }
    if (buildId === undefined) {
      // Separate debug files keep the note as a section; their program headers may not point at it.
      for (const s of sections) {
        if (s.type !== SHT_NOTE || s.size === 0 || s.size > MAX_NOTES_BYTES) continue;
        buildId = findBuildId(this.read(s.offset, s.size, 'note section'), 4);
        if (buildId !== undefined) break;
      }
    }
    const has = (t: number): boolean => sections.some((s) => s.type === t && s.size >= SYM_SIZE);
    const symbols = has(SHT_SYMTAB) ? 'symtab' : has(SHT_DYNSYM) ? 'dynsym' : 'none';
    this.headersCache = { type, loads, symbols, ...(buildId !== undefined ? { buildId } : {}) };
    return this.headersCache;
  }

  /**
   * The function symbols (STT_FUNC, STT_GNU_IFUNC, defined) of `.symtab`, else `.dynsym`, as a
   * compact table. `loads` bound symbols without a size (assembly) to their segment's end.
   */
  symbolTable(loads: LoadSegment[] = this.headers().loads): SymbolTable {
    const sections = this.sections(this.ehdr());
    const table = sections.find((s) => s.type === SHT_SYMTAB && s.size >= SYM_SIZE) ?? sections.find((s) => s.type === SHT_DYNSYM && s.size >= SYM_SIZE);
    if (!table) return SymbolTable.empty();
    if (table.entsize !== 0 && table.entsize !== SYM_SIZE) throw invalid(this.path, `symbol table entry size ${table.entsize}, expected ${SYM_SIZE}`);
    const strs = sections[table.link];
    if (!strs || strs.type === SHT_NOBITS) throw invalid(this.path, `symbol table links to section ${table.link}, which has no strings`);
    const syms = this.read(table.offset, table.size - (table.size % SYM_SIZE), 'symbol table');
    const strtab = this.read(strs.offset, strs.size, 'symbol string table');
    const n = syms.length / SYM_SIZE;
    const b = SymbolTable.builder(n, loads);
    const v = new DataView(syms.buffer, syms.byteOffset, syms.length);
    for (let i = 1; i < n; i++) {
      const p = i * SYM_SIZE;
      const info = v.getUint8(p + 4);
      const type = info & 0xf;
      if (type !== STT_FUNC && type !== STT_GNU_IFUNC) continue;
      if (v.getUint16(p + 6, true) === 0) continue; // undefined: an import
      const lo = v.getUint32(p + 8, true);
      const hi = v.getUint32(p + 12, true);
      if (hi >= 0x200000 || (hi === 0 && lo === 0)) continue;
      const shi = v.getUint32(p + 20, true);
      if (shi >= 0x200000) continue;
      const nameOff = v.getUint32(p, true);
      if (nameOff === 0 || nameOff >= strtab.length) continue;
      const end = strtab.indexOf(0, nameOff);
      if (end <= nameOff) continue; // empty or not terminated
      b.add(hi * 0x100000000 + lo, shi * 0x100000000 + v.getUint32(p + 16, true), info >> 4, strtab, nameOff, end);
    }
    return b.build();
  }
}

/** NT_GNU_BUILD_ID in a block of notes (4- or 8-byte aligned), as hex; undefined when absent or malformed. */
export function findBuildId(notes: Buffer, align: number): string | undefined {
  const a = align === 8 ? 8 : 4;
  const up = (x: number): number => Math.ceil(x / a) * a;
  let p = 0;
  while (p + 12 <= notes.length) {
    const namesz = notes.readUInt32LE(p) >>> 0;
    const descsz = notes.readUInt32LE(p + 4) >>> 0;
    const type = notes.readUInt32LE(p + 8) >>> 0;
    const nameAt = p + 12;
    const descAt = nameAt + up(namesz);
    if (descAt + descsz > notes.length) return undefined;
    if (type === NT_GNU_BUILD_ID && namesz === 4 && notes.toString('latin1', nameAt, nameAt + 3) === 'GNU' && descsz > 0) {
      return notes.toString('hex', descAt, descAt + descsz);
    }
    p = descAt + up(descsz);
  }
  return undefined;
}

/** The virtual address of a file offset, through the PT_LOAD that maps it; undefined when none does. */
export function fileOffsetToVaddr(loads: readonly LoadSegment[], fileOffset: number): number | undefined {
  let best: LoadSegment | undefined;
  for (const l of loads) {
    if (fileOffset >= l.offset && fileOffset < l.offset + Math.max(l.filesz, 1)) {
      if (!best || (l.exec && !best.exec)) best = l;
    }
  }
  return best ? fileOffset - best.offset + best.vaddr : undefined;
}
