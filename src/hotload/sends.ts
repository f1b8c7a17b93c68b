/**
 * Where an eBPF object's programs send records to user space, read from the bytecode alone:
 * every call of bpf_ringbuf_reserve, bpf_ringbuf_output and bpf_perf_event_output, with the
 * map it names and the record size when that is a constant. The hot-load check compares the
 * sizes with the package's event struct, and learns which streams carry variable-length records.
 *
 * Register contents are found by a forward data-flow pass over each code section: a register
 * holds a known constant, a known map (ld_imm64 relocated to a symbol in ".maps"), or unknown.
 * Where paths join, a register keeps its content only if every path agrees, so a constant set
 * on one path alone is never believed; a call clobbers r0-r5. Anything not modelled (stack
 * spills, pointer arithmetic, byte swaps) makes the register unknown: a size is only reported
 * when it is certain, never guessed.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import {
  readElfRelocations,
  readElfSectionList,
  readElfSymbols,
  STT_FUNC,
  STT_OBJECT,
  STT_SECTION,
  type ElfRelocation,
  type ElfSection,
  type ElfSymbol,
} from '../core/elf.js';

export interface SendSite {
  /** The function containing the call: the program, or for a call in a .text subprogram, the subprogram. */
  program: string;
  /** ELF section of the code. */
  section: string;
  /** Instruction index (8-byte slot) of the call within its section, as llvm-objdump numbers it. */
  insn: number;
  helper: 'ringbuf_output' | 'ringbuf_reserve' | 'perf_event_output';
  /** The map passed, or undefined when it is not known statically. */
  map: string | undefined;
  /** Record size in bytes when it is a constant; undefined when computed at run time. */
  size: number | undefined;
}

/** Helper id → which registers hold the map and the size. */
const SEND_HELPERS: Record<number, { helper: SendSite['helper']; map: number; size: number }> = {
  25: { helper: 'perf_event_output', map: 2, size: 5 },
  130: { helper: 'ringbuf_output', map: 1, size: 3 },
  131: { helper: 'ringbuf_reserve', map: 1, size: 2 },
};

const SHF_EXECINSTR = 0x4;
const INSN = 8;
const REGS = 11; // r0-r9 and the frame pointer r10

// Instruction classes (opcode & 7) and the opcodes the pass treats specially.
const CLASS_LD = 0x00;
const CLASS_LDX = 0x01;
const CLASS_STX = 0x03;
const CLASS_ALU = 0x04;
const CLASS_JMP = 0x05;
const CLASS_JMP32 = 0x06;
const CLASS_ALU64 = 0x07;
const LD_IMM64 = 0x18;
const JA = 0x05;
const JA32 = 0x06; // gotol: the offset is in imm
const CALL = 0x85;
const EXIT = 0x95;
const MODE_ATOMIC = 0xc0;
const PSEUDO_CALL = 1;

/** A known register content: a constant (u64), or the name of the map whose address it holds. */
type Known = bigint | string;
type Regs = (Known | undefined)[];

function invalid(where: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.OBJECT_INVALID, `invalid eBPF object: ${where}: ${msg}`);
}

/** Every send site in the object's code sections, in section order then instruction order. */
export function recordSends(elf: Buffer): SendSite[] {
  const sections = readElfSectionList(elf);
  const symbols = readElfSymbols(elf, sections);
  const maps = sections.find((s) => s.name === '.maps');
  const out: SendSite[] = [];
  for (const sec of sections) {
    if (!(sec.flags & SHF_EXECINSTR) || sec.size === 0 || sec.index === 0) continue;
    out.push(...new SectionScan(sec, sections, symbols, maps).sites());
  }
  return out;
}

/** One code section: decoded instructions, its control-flow blocks, and the data-flow pass. */
class SectionScan {
  private readonly n: number;
  private readonly code: Uint8Array;
  private readonly dst: Uint8Array;
  private readonly src: Uint8Array;
  private readonly off: Int16Array;
  private readonly imm: Int32Array;
  /** Relocation by instruction index. */
  private readonly relocs = new Map<number, ElfRelocation>();
  /** Functions of this section by start, for naming the program of a site. */
  private readonly functions: ElfSymbol[];
  /** Block start instruction indexes, ascending; block b ends where block b+1 starts. */
  private readonly starts: number[] = [];
  private readonly blockAt = new Map<number, number>();

  constructor(
    private readonly sec: ElfSection,
    sections: ElfSection[],
    private readonly symbols: ElfSymbol[],
    private readonly maps: ElfSection | undefined,
  ) {
    if (sec.data.length % INSN !== 0) throw invalid(`section ${sec.name}`, `${sec.data.length} bytes of code is not a whole number of 8-byte instructions — truncated?`);
    const n = (this.n = sec.data.length / INSN);
    this.code = new Uint8Array(n);
    this.dst = new Uint8Array(n);
    this.src = new Uint8Array(n);
    this.off = new Int16Array(n);
    this.imm = new Int32Array(n);
    const d = sec.data;
    for (let i = 0; i < n; i++) {
      const p = i * INSN;
      this.code[i] = d[p]!;
      this.dst[i] = d[p + 1]! & 0xf;
      this.src[i] = d[p + 1]! >> 4;
      this.off[i] = d.readInt16LE(p + 2);
      this.imm[i] = d.readInt32LE(p + 4);
    }
    for (const r of readElfRelocations(sections, sec)) {
      if (r.offset % INSN !== 0) throw invalid(`section ${sec.name}`, `a relocation patches offset ${r.offset}, which is not at an instruction boundary`);
      this.relocs.set(r.offset / INSN, r);
    }
    this.functions = symbols.filter((s) => s.type === STT_FUNC && s.shndx === sec.index).sort((a, b) => a.value - b.value);
    this.findBlocks();
  }

  private where(i: number): string {
    return `section ${this.sec.name}: instruction ${i}`;
  }

  /** Where a jump at `i` goes, checked to be an instruction of this section; undefined if `i` does not jump. */
  private jumpTarget(i: number): number | undefined {
    const code = this.code[i]!;
    const cls = code & 7;
    if ((cls !== CLASS_JMP && cls !== CLASS_JMP32) || code === CALL || code === EXIT) return undefined;
    const t = i + 1 + (code === JA32 ? this.imm[i]! : this.off[i]!);
    if (t < 0 || t >= this.n) throw invalid(this.where(i), `jumps to instruction ${t}, outside the section (${this.n} instructions)`);
    return t;
  }

  /** Splits the code into blocks: starting at function entries, jump targets and after every jump. */
  private findBlocks(): void {
    const leaders = new Set<number>([0]);
    for (const f of this.functions) if (f.value % INSN === 0 && f.value / INSN < this.n) leaders.add(f.value / INSN);
    const secondSlots = new Set<number>();
    for (let i = 0; i < this.n; i++) {
      const code = this.code[i]!;
      if (code === LD_IMM64) {
        if (i + 1 >= this.n) throw invalid(this.where(i), 'ld_imm64 is cut off by the end of the section (it takes two slots)');
        secondSlots.add(++i);
        continue;
      }
      const t = this.jumpTarget(i);
      if (t !== undefined || code === EXIT) {
        if (t !== undefined) leaders.add(t);
        if (i + 1 < this.n) leaders.add(i + 1);
      }
      const callee = this.localCallee(i);
      if (callee !== undefined) leaders.add(callee);
    }
    for (const t of leaders) {
      if (secondSlots.has(t)) throw invalid(`section ${this.sec.name}`, `a jump or function starts at instruction ${t}, the second half of an ld_imm64`);
    }
    this.starts.push(...[...leaders].sort((a, b) => a - b));
    this.starts.forEach((s, b) => this.blockAt.set(s, b));
  }

  /** The entry of a BPF-to-BPF call within this section (one without a relocation). */
  private localCallee(i: number): number | undefined {
    if (this.code[i] !== CALL || this.src[i] !== PSEUDO_CALL || this.relocs.has(i)) return undefined;
    const t = i + 1 + this.imm[i]!;
    return t >= 0 && t < this.n ? t : undefined;
  }

  /**
   * Runs the data flow to its fixed point, then records the sites with the final states.
   * Entries (and any block no modelled path reaches) start with every register unknown.
   */
  sites(): SendSite[] {
    const nb = this.starts.length;
    const inState: (Regs | undefined)[] = new Array(nb).fill(undefined);
    const entries = new Set<number>([0]);
    for (let i = 0; i < this.n; i++) {
      const callee = this.localCallee(i);
      if (callee !== undefined) entries.add(this.blockAt.get(callee)!);
    }
    for (const f of this.functions) {
      const b = this.blockAt.get(f.value / INSN);
      if (b !== undefined) entries.add(b);
    }
    const work: number[] = [];
    const seed = (b: number): void => {
      inState[b] = unknownRegs();
      work.push(b);
    };
    for (const b of entries) seed(b);
    for (let next = 0; ; ) {
      while (work.length > 0) {
        const b = work.pop()!;
        const { regs, successors } = this.runBlock(b, inState[b]!.slice(), undefined);
        for (const s of successors) {
          const merged = meet(inState[s], regs);
          if (merged !== inState[s]) {
            inState[s] = merged;
            work.push(s);
          }
        }
      }
      while (next < nb && inState[next] !== undefined) next++;
      if (next === nb) break;
      seed(next); // dead code, or reached in a way not modelled: assume nothing
    }
    const found: SendSite[] = [];
    for (let b = 0; b < nb; b++) this.runBlock(b, inState[b]!.slice(), found);
    return found;
  }

  /** Applies block `b` to `regs`; records sites into `found` when given. */
  private runBlock(b: number, regs: Regs, found: SendSite[] | undefined): { regs: Regs; successors: number[] } {
    const end = b + 1 < this.starts.length ? this.starts[b + 1]! : this.n;
    let i = this.starts[b]!;
    let last = i;
    while (i < end) {
      last = i;
      if (found && this.code[i] === CALL) this.record(i, regs, found);
      i = this.step(i, regs);
    }
    const successors: number[] = [];
    const code = this.code[last]!;
    const t = this.jumpTarget(last);
    if (t !== undefined) successors.push(this.blockAt.get(t)!);
    const falls = code !== EXIT && code !== JA && code !== JA32;
    if (falls && end < this.n) successors.push(b + 1);
    return { regs, successors };
  }

  private record(i: number, regs: Regs, found: SendSite[]): void {
    const send = this.src[i] === 0 && !this.relocs.has(i) ? SEND_HELPERS[this.imm[i]!] : undefined;
    if (!send) return;
    const map = regs[send.map];
    const size = regs[send.size];
    found.push({
      program: this.functionAt(i),
      section: this.sec.name,
      insn: i,
      helper: send.helper,
      map: typeof map === 'string' ? map : undefined,
      size: typeof size === 'bigint' && size <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(size) : undefined,
    });
  }

  /** The function whose code holds instruction `i`: the last one starting at or before it. */
  private functionAt(i: number): string {
    let name = this.sec.name; // no function symbol at all: name the section
    for (const f of this.functions) {
      if (f.value > i * INSN) break;
      name = f.name;
    }
    return name;
  }

  /** Applies instruction `i` to `regs`; returns the next instruction's index. */
  private step(i: number, regs: Regs): number {
    const code = this.code[i]!;
    const dst = this.dst[i]!;
    switch (code & 7) {
      case CLASS_LD:
        if (code === LD_IMM64) {
          set(regs, dst, this.ldImm64(i));
          return i + 2;
        }
        clobber(regs); // legacy packet loads (LD_ABS/LD_IND) behave as calls
        return i + 1;
      case CLASS_LDX:
        set(regs, dst, undefined);
        return i + 1;
      case CLASS_STX:
        if ((code & 0xe0) === MODE_ATOMIC) {
          // A fetching atomic writes its source register, cmpxchg writes r0.
          set(regs, this.src[i]!, undefined);
          regs[0] = undefined;
        }
        return i + 1;
      case CLASS_ALU:
      case CLASS_ALU64:
        set(regs, dst, alu(code, this.off[i]!, this.imm[i]!, regs[dst], regs[this.src[i]!]));
        return i + 1;
      case CLASS_JMP:
        if (code === CALL) clobber(regs);
        return i + 1;
      default:
        return i + 1; // stores and conditional jumps write no register
    }
  }

  /** What ld_imm64 at `i` loads: a map (relocated to a symbol in .maps), a constant, or unknown. */
  private ldImm64(i: number): Known | undefined {
    const r = this.relocs.get(i);
    if (r) return this.mapOf(this.symbols[r.symbol]!);
    if (this.src[i] !== 0) return undefined; // BPF_PSEUDO_*: a map fd or address resolved by the loader
    const lo = BigInt(this.imm[i]! >>> 0);
    const hi = BigInt(this.imm[i + 1]! >>> 0);
    return (hi << 32n) | lo;
  }

  /** The map a relocation's symbol names, as libbpf resolves it: the map defined at the symbol's offset in .maps. */
  private mapOf(sym: ElfSymbol): string | undefined {
    if (!this.maps || sym.shndx !== this.maps.index) return undefined;
    if (sym.type !== STT_SECTION) return sym.name;
    return this.symbols.find((s) => s.type === STT_OBJECT && s.shndx === sym.shndx && s.value === sym.value)?.name;
  }
}

function unknownRegs(): Regs {
  return new Array<Known | undefined>(REGS).fill(undefined);
}

/** Writes a register; register numbers past r10 are invalid code the verifier refuses, so they are ignored. */
function set(regs: Regs, r: number, v: Known | undefined): void {
  if (r < REGS) regs[r] = v;
}

/** A call (helper, BPF-to-BPF or kfunc) returns in r0 and clobbers r1-r5. */
function clobber(regs: Regs): void {
  for (let r = 0; r <= 5; r++) regs[r] = undefined;
}

/** Where paths join: what every path agrees on. Returns `into` itself when nothing changes. */
function meet(into: Regs | undefined, from: Regs): Regs {
  if (!into) return from.slice();
  let out = into;
  for (let r = 0; r < REGS; r++) {
    if (into[r] !== undefined && into[r] !== from[r]) {
      if (out === into) out = into.slice();
      out[r] = undefined;
    }
  }
  return out;
}

/**
 * The result of an ALU instruction when it is certain: constants only (a map's address plus
 * anything is not a map). 32-bit operations work on the low halves and zero-extend.
 */
function alu(code: number, off: number, imm: number, a: Known | undefined, srcVal: Known | undefined): Known | undefined {
  const bits = (code & 7) === CLASS_ALU64 ? 64 : 32;
  const op = code & 0xf0;
  const fromReg = (code & 0x08) !== 0;
  const width = (x: bigint): bigint => BigInt.asUintN(bits, x);
  const signed = (x: bigint): bigint => BigInt.asIntN(bits, x);
  // An immediate is sign-extended to 64 bits, then cut to the operation's width.
  const b = fromReg ? srcVal : width(BigInt(imm));
  if (op === 0xb0) {
    // mov; with a register and `off` 8/16/32 it is movsx (sign-extending, cpu v4)
    if (!fromReg) return off === 0 ? b : undefined;
    if (off === 0) return bits === 64 ? b : typeof b === 'bigint' ? width(b) : undefined;
    if ((off === 8 || off === 16 || off === 32) && typeof b === 'bigint') return width(BigInt.asIntN(off, b));
    return undefined;
  }
  if (typeof a !== 'bigint') return undefined;
  const x = width(a);
  if (op === 0x80) return width(-x); // neg
  if (typeof b !== 'bigint') return undefined;
  const y = width(b);
  switch (op) {
    case 0x00:
      return width(x + y);
    case 0x10:
      return width(x - y);
    case 0x20:
      return width(x * y);
    case 0x30: // div; off 1 is sdiv (cpu v4), not modelled
      return off !== 0 ? undefined : y === 0n ? 0n : x / y;
    case 0x40:
      return x | y;
    case 0x50:
      return x & y;
    case 0x60: // shifts past the width are refused by the verifier: not a constant we can know
      return y >= BigInt(bits) ? undefined : width(x << y);
    case 0x70:
      return y >= BigInt(bits) ? undefined : x >> y;
    case 0x90: // mod; x % 0 is x
      return off !== 0 ? undefined : y === 0n ? x : x % y;
    case 0xa0:
      return x ^ y;
    case 0xc0:
      return y >= BigInt(bits) ? undefined : width(signed(x) >> y);
    default:
      return undefined; // byte swaps and anything unknown
  }
}
