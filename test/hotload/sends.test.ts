/**
 * The send-site scan (src/hotload/sends.ts): real objects compiled from test/bpf/sends_*.bpf.c,
 * checked against their C source and BTF; hand-made bytecode for the data-flow rules (merges,
 * loops, calls, ALU); and malformed objects, which must give EunomiaError and never a crash.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { Btf } from '../../src/core/btf/index.js';
import { readElfSectionList, SHT_REL } from '../../src/core/elf.js';
import { ErrorCodes, EunomiaError } from '../../src/core/errors.js';
import { recordSends, type SendSite } from '../../src/hotload/sends.js';
import { buildBpf, needsClang, repoRoot } from '../helpers.js';

const HELPER_IDS: Record<SendSite['helper'], number> = { perf_event_output: 25, ringbuf_output: 130, ringbuf_reserve: 131 };

function compile(name: string): Buffer {
  return readFileSync(buildBpf(join(repoRoot, 'test/bpf', `${name}.bpf.c`)));
}

/** The sites without instruction indexes (those depend on the compiler), in a stable order. */
function summary(sites: SendSite[]): Omit<SendSite, 'insn'>[] {
  return sites.map(({ insn: _insn, ...rest }) => rest);
}

/** Each site's instruction really is a call of its helper. */
function assertCallsAt(elf: Buffer, sites: SendSite[]): void {
  const sections = readElfSectionList(elf);
  for (const s of sites) {
    const code = sections.find((x) => x.name === s.section)!.data;
    const p = s.insn * 8;
    assert.equal(code[p], 0x85, `${s.program}: instruction ${s.insn} is a call`);
    assert.equal(code.readInt32LE(p + 4), HELPER_IDS[s.helper], `${s.program}: instruction ${s.insn} calls ${s.helper}`);
  }
}

function structSize(btf: Btf, name: string): number {
  const t = btf.find(name, 'struct');
  assert.ok(t, `struct ${name} is in the BTF`);
  return t.size!;
}

const isInvalid = (re: RegExp) => (e: unknown): boolean => e instanceof EunomiaError && e.code === ErrorCodes.OBJECT_INVALID && re.test(e.message);

describe('send sites of compiled programs', { skip: needsClang }, () => {
  let fixed: Buffer;
  let dynamic: Buffer;
  before(() => {
    fixed = compile('sends_fixed');
    dynamic = compile('sends_dynamic');
  });

  test('constant sizes: ringbuf_reserve of sizeof(struct), perf_event_output of a stack struct, ringbuf_output', () => {
    const sites = recordSends(fixed);
    assert.deepEqual(summary(sites), [
      { program: 'reserve_open', section: 'tracepoint/syscalls/sys_enter_openat', helper: 'ringbuf_reserve', map: 'opens', size: 40 },
      { program: 'perf_exit', section: 'tp/sched/sched_process_exit', helper: 'perf_event_output', map: 'exits', size: 24 },
      { program: 'output_exit', section: 'tp/sched/sched_process_free', helper: 'ringbuf_output', map: 'exits_rb', size: 24 },
    ]);
    assertCallsAt(fixed, sites);
  });

  test('two record types in one object: each stream carries its own struct', () => {
    const btf = Btf.fromElf(fixed);
    const sizes = new Map<string, Set<number | undefined>>();
    for (const s of recordSends(fixed)) sizes.set(s.map!, (sizes.get(s.map!) ?? new Set()).add(s.size));
    assert.deepEqual(sizes.get('opens'), new Set([structSize(btf, 'open_event')]));
    assert.deepEqual(sizes.get('exits'), new Set([structSize(btf, 'exit_event')]));
    assert.deepEqual(sizes.get('exits_rb'), new Set([structSize(btf, 'exit_event')]));
    assert.notEqual(structSize(btf, 'open_event'), structSize(btf, 'exit_event'));
  });

  test('a size computed at run time is unknown; a sending subprogram is its own site, once', () => {
    const sites = recordSends(dynamic);
    assert.deepEqual(summary(sites), [
      { program: 'send_sig', section: '.text', helper: 'ringbuf_reserve', map: 'signals', size: structSize(Btf.fromElf(dynamic), 'sig_event') },
      { program: 'exec_args', section: 'tracepoint/syscalls/sys_enter_execve', helper: 'perf_event_output', map: 'execs', size: undefined },
    ]);
    assertCallsAt(dynamic, sites);
  });

  test('damaged objects: EunomiaError or a result, never another exception', () => {
    // Flip bytes in code and relocation sections, where the scan does its own reading.
    const sections = readElfSectionList(dynamic).filter((s) => s.flags & 0x4 || s.type === SHT_REL);
    let seed = 1;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    let refused = 0;
    for (let round = 0; round < 400; round++) {
      const copy = Buffer.from(dynamic);
      for (let k = 0; k < 4; k++) {
        const s = sections[rand(sections.length)]!;
        copy[s.offset + rand(s.size)] = rand(256);
      }
      try {
        recordSends(copy);
      } catch (e) {
        assert.ok(e instanceof EunomiaError && e.code === ErrorCodes.OBJECT_INVALID, `round ${round}: ${String(e)}`);
        refused++;
      }
    }
    assert.ok(refused > 0, 'some damage is detected');
  });
});

// ---- hand-made objects -------------------------------------------------------------------

/** One instruction: opcode, dst, src, off, imm. */
function ins(code: number, dst = 0, src = 0, off = 0, imm = 0): Buffer {
  const b = Buffer.alloc(8);
  b[0] = code;
  b[1] = (src << 4) | dst;
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}
const movImm = (r: number, imm: number): Buffer => ins(0xb7, r, 0, 0, imm);
const mov32Imm = (r: number, imm: number): Buffer => ins(0xb4, r, 0, 0, imm);
const movReg = (d: number, s: number): Buffer => ins(0xbf, d, s);
const call = (id: number, src = 0): Buffer => ins(0x85, 0, src, 0, id);
const ja = (off: number): Buffer => ins(0x05, 0, 0, off);
const jeqImm = (r: number, imm: number, off: number): Buffer => ins(0x15, r, 0, off, imm);
const exit = (): Buffer => ins(0x95);
/** ld_imm64 of a 64-bit constant: two slots. */
const ld64 = (r: number, lo = 0, hi = 0, src = 0): Buffer[] => [ins(0x18, r, src, 0, lo), ins(0, 0, 0, 0, hi)];
const RESERVE = 131;
const OUTPUT = 130;
const PERF = 25;

/** Symbols of the hand-made object: index → [name, type, section index, value]. */
const SYMBOLS: [string, number, number, number][] = [
  ['', 0, 0, 0],
  ['prog', 2, 1, 0], // FUNC in the code section
  ['rb', 1, 3, 0], // OBJECT in .maps
  ['pb', 1, 3, 16],
  ['', 3, 3, 0], // SECTION symbol of .maps
  ['cfg', 1, 4, 0], // OBJECT in .rodata
];
const SYM = { rb: 2, pb: 3, mapsSection: 4, cfg: 5 };

interface Hand {
  /** The instructions, as slots; `reloc` marks slots relocated to a symbol. */
  code: (Buffer | { reloc: number; insn: Buffer })[];
  /** Raw relocation entries to add (offset, symbol), for bad input. */
  extraRelocs?: [number, number][];
  /** Bytes to cut off the code section / the relocation section, for bad input. */
  cutCode?: number;
  cutRel?: number;
}

/**
 * A relocatable BPF ELF: null, code "tp/x", its ".reltp/x", ".maps", ".rodata", ".symtab",
 * ".strtab", ".shstrtab". Just enough for recordSends (readElfSectionList's checks pass).
 */
function handMade(h: Hand): Buffer {
  const slots: Buffer[] = [];
  const rels: [number, number][] = [];
  for (const c of h.code) {
    if (Buffer.isBuffer(c)) slots.push(c);
    else {
      rels.push([slots.reduce((n, b) => n + b.length, 0), c.reloc]);
      slots.push(c.insn);
    }
  }
  rels.push(...(h.extraRelocs ?? []));
  let code = Buffer.concat(slots);
  if (h.cutCode) code = code.subarray(0, code.length - h.cutCode);
  let rel = Buffer.concat(rels.map(([off, sym]) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(BigInt(off), 0);
    b.writeUInt32LE(1, 8); // R_BPF_64_64
    b.writeUInt32LE(sym, 12);
    return b;
  }));
  if (h.cutRel) rel = rel.subarray(0, rel.length - h.cutRel);
  const strtab: string[] = [''];
  const strOff = (s: string): number => {
    if (s === '') return 0;
    const off = Buffer.byteLength(strtab.join('\0') + '\0');
    strtab.push(s);
    return off;
  };
  const symtab = Buffer.concat(SYMBOLS.map(([name, type, shndx, value]) => {
    const b = Buffer.alloc(24);
    b.writeUInt32LE(strOff(name), 0);
    b[4] = ((type === 2 || type === 1 ? 1 : 0) << 4) | type; // globals, except the section symbol
    b.writeUInt16LE(shndx, 6);
    b.writeBigUInt64LE(BigInt(value), 8);
    return b;
  }));
  const names = ['', 'tp/x', '.reltp/x', '.maps', '.rodata', '.symtab', '.strtab', '.shstrtab'];
  const shstr = Buffer.from(names.join('\0') + '\0');
  const nameOff = (i: number): number => Buffer.byteLength(names.slice(0, i).join('\0') + (i ? '\0' : ''));
  // [type, flags, data, link, info, entsize]
  const secs: [number, number, Buffer, number, number, number][] = [
    [0, 0, Buffer.alloc(0), 0, 0, 0],
    [1, 0x6, code, 0, 0, 0],
    [SHT_REL, 0x40, rel, 5, 1, 16],
    [1, 0x3, Buffer.alloc(32), 0, 0, 0],
    [1, 0x2, Buffer.alloc(8), 0, 0, 0],
    [2, 0, symtab, 6, 1, 24],
    [3, 0, Buffer.from(strtab.join('\0') + '\0'), 0, 0, 0],
    [3, 0, shstr, 0, 0, 0],
  ];
  const parts: Buffer[] = [Buffer.alloc(64)];
  let at = 64;
  const offsets = secs.map(([, , data]) => {
    const off = at;
    parts.push(data);
    at += data.length;
    return off;
  });
  const shoff = at;
  secs.forEach(([type, flags, data, link, info, entsize], i) => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(nameOff(i), 0);
    b.writeUInt32LE(type, 4);
    b.writeBigUInt64LE(BigInt(flags), 8);
    b.writeBigUInt64LE(BigInt(offsets[i]!), 24);
    b.writeBigUInt64LE(BigInt(data.length), 32);
    b.writeUInt32LE(link, 40);
    b.writeUInt32LE(info, 44);
    b.writeBigUInt64LE(BigInt(entsize), 56);
    parts.push(b);
  });
  const elf = Buffer.concat(parts);
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  elf.writeUInt16LE(1, 16); // ET_REL
  elf.writeUInt16LE(247, 18); // EM_BPF
  elf.writeBigUInt64LE(BigInt(shoff), 0x28);
  elf.writeUInt16LE(64, 0x3a);
  elf.writeUInt16LE(secs.length, 0x3c);
  elf.writeUInt16LE(secs.length - 1, 0x3e);
  return elf;
}

/** ld_imm64 of a map's address into r`r`: the first slot carries the relocation. */
function ldMap(r: number, sym: number): (Buffer | { reloc: number; insn: Buffer })[] {
  const [first, second] = ld64(r);
  return [{ reloc: sym, insn: first! }, second!];
}

/** [insn, map, size] of each site. */
function sites(code: Hand['code']): [number, string | undefined, number | undefined][] {
  return recordSends(handMade({ code })).map((s) => [s.insn, s.map, s.size]);
}

describe('send sites of hand-made bytecode', () => {
  test('the hand-made object is read as intended', () => {
    const s = recordSends(handMade({ code: [...ldMap(1, SYM.rb), movImm(2, 40), movImm(3, 0), call(RESERVE), exit()] }));
    assert.deepEqual(s, [{ program: 'prog', section: 'tp/x', insn: 4, helper: 'ringbuf_reserve', map: 'rb', size: 40 }]);
  });

  test('a constant set on one path only is not believed after the paths join', () => {
    assert.deepEqual(sites([
      ...ldMap(1, SYM.rb), // 0-1
      movImm(3, 0), // 2
      jeqImm(6, 0, 1), // 3: to 5, skipping the size
      movImm(2, 40), // 4
      call(RESERVE), // 5
      exit(),
    ]), [[5, 'rb', undefined]]);
  });

  test('what every joining path agrees on is kept, what they disagree on is not', () => {
    const join = (a: number, b: number): Buffer[] => [jeqImm(6, 0, 2), movImm(2, a), ja(1), movImm(2, b)];
    assert.deepEqual(sites([
      ...ldMap(1, SYM.rb), // 0-1: the map is set before the branch, so both paths have it
      ...join(16, 16), // 2-5
      call(RESERVE), // 6
      ...ldMap(1, SYM.rb), // 7-8
      ...join(16, 24), // 9-12
      call(RESERVE), // 13
      exit(),
    ]), [[6, 'rb', 16], [13, 'rb', undefined]]);
  });

  test('a loop: a constant changed on the back edge is not believed', () => {
    assert.deepEqual(sites([
      movImm(2, 8), // 0
      ins(0x07, 2, 0, 0, 8), // 1: r2 += 8 (16 on the first pass)
      ins(0x55, 6, 0, -2, 0), // 2: if r6 != 0 goto 1
      ...ldMap(1, SYM.rb), // 3-4
      call(RESERVE), // 5
      exit(),
    ]), [[5, 'rb', undefined]]);
  });

  test('a call clobbers r0-r5; r6-r9 survive it and are copied by mov', () => {
    assert.deepEqual(sites([
      movImm(6, 40), // 0
      ...ldMap(7, SYM.rb), // 1-2
      movImm(2, 40), // 3
      call(5), // 4: bpf_ktime_get_ns
      movReg(1, 7), // 5
      call(RESERVE), // 6: r2 was clobbered
      movReg(1, 7), // 7
      movReg(2, 6), // 8
      call(RESERVE), // 9
      exit(),
    ]), [[6, 'rb', undefined], [9, 'rb', 40]]);
  });

  test('ALU on constants, 32-bit moves, ld_imm64 constants, perf_event_output and ringbuf_output registers', () => {
    assert.deepEqual(sites([
      ...ldMap(2, SYM.pb), // 0-1
      movImm(5, 8), // 2
      ins(0x27, 5, 0, 0, 5), // 3: r5 *= 5
      ins(0x07, 5, 0, 0, -4), // 4: r5 += -4 → 36
      call(PERF), // 5
      ...ldMap(1, SYM.rb), // 6-7
      mov32Imm(3, -1), // 8: w3 = -1 → 0xffffffff, zero-extended
      call(OUTPUT), // 9
      ...ldMap(1, SYM.rb), // 10-11
      ...ld64(3, 48, 0), // 12-13: a plain 64-bit constant
      ins(0x77, 3, 0, 0, 1), // 14: r3 >>= 1 → 24
      call(OUTPUT), // 15
      ...ldMap(1, SYM.rb), // 16-17
      movImm(3, 24), // 18
      ins(0x0f, 3, 1, 0, 0), // 19: r3 += r1 (a map address): not a constant
      call(OUTPUT), // 20
      exit(),
    ]), [[5, 'pb', 36], [9, 'rb', 0xffffffff], [15, 'rb', 24], [20, 'rb', undefined]]);
  });

  test('maps: a .maps section symbol names the map at its offset; other symbols are not maps', () => {
    assert.deepEqual(sites([
      ...ldMap(1, SYM.mapsSection), // 0-1: as libbpf resolves it, the map at offset 0
      movImm(2, 8),
      call(RESERVE), // 3
      ...ldMap(1, SYM.cfg), // 4-5: .rodata, not a map
      movImm(2, 8),
      call(RESERVE), // 7
      ...ld64(1, 0, 0, 1), // 8-9: BPF_PSEUDO_MAP_FD without a relocation: unknown
      movImm(2, 8),
      call(RESERVE), // 11
      exit(),
    ]), [[3, 'rb', 8], [7, undefined, 8], [11, undefined, 8]]);
  });

  test('BPF-to-BPF calls, kfunc calls and relocated calls are not helper calls', () => {
    assert.deepEqual(sites([
      ...ldMap(1, SYM.rb), // 0-1
      movImm(2, 8), // 2
      call(RESERVE, 2), // 3: kfunc
      call(RESERVE, 1), // 4: BPF-to-BPF, imm is an offset (out of the section: ignored)
      { reloc: SYM.cfg, insn: call(RESERVE) }, // 5: relocated: an extern, not a helper
      exit(),
    ]), []);
  });

  test('malformed code and relocations are EunomiaError(E_OBJECT_INVALID)', () => {
    const ok: Hand['code'] = [...ldMap(1, SYM.rb), movImm(2, 8), call(RESERVE), exit()];
    const cases: [string, Hand, RegExp][] = [
      ['cut code', { code: ok, cutCode: 3 }, /not a whole number of 8-byte instructions/],
      ['cut relocations', { code: ok, cutRel: 5 }, /not a whole number of 16-byte entries/],
      ['relocation outside the section', { code: ok, extraRelocs: [[400, SYM.rb]] }, /patches offset 400, outside tp\/x/],
      ['relocation to no symbol', { code: ok, extraRelocs: [[8, 99]] }, /names symbol 99, outside the symbol table/],
      ['relocation inside an instruction', { code: ok, extraRelocs: [[4, SYM.rb]] }, /offset 4, which is not at an instruction boundary/],
      ['ld_imm64 cut off', { code: [movImm(0, 0), ld64(1)[0]!] }, /instruction 1: ld_imm64 is cut off/],
      ['jump out of the section', { code: [jeqImm(1, 0, 5), exit()] }, /instruction 0: jumps to instruction 6, outside the section/],
      ['jump backwards out of the section', { code: [ja(-2), exit()] }, /jumps to instruction -1/],
      ['jump into ld_imm64', { code: [jeqImm(1, 0, 1), ...ld64(2), exit()] }, /instruction 2, the second half of an ld_imm64/],
    ];
    for (const [what, h, re] of cases) assert.throws(() => recordSends(handMade(h)), isInvalid(re), what);
  });
});
