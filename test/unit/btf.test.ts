/**
 * BTF parsing, decoding and encoding against test/bpf/btf_types.bpf.c compiled by clang-16.
 * Ground truth needs no kernel: the fixture's .data globals have known initialisers, so their
 * bytes in the ELF must decode to exactly those values.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readElfSectionList, readElfSections, readElfSymbols, SHT_NOBITS } from '../../src/core/elf.js';
import {
  Btf,
  compileDecoder,
  compileValueDecoder,
  decodeVariable,
  encodeToBuffer,
  encodeValue,
  encodeVariable,
} from '../../src/core/btf/index.js';
import { EunomiaError, ErrorCodes, type ErrorCode } from '../../src/core/errors.js';

const CLANG = 'clang-16';
const hasClang = spawnSync(CLANG, ['--version'], { stdio: 'ignore' }).status === 0;
const skip = !hasClang && 'clang-16 not installed (scripts/setup.sh installs it)';
// dist/test/unit/*.js and test/unit/*.ts both reach the fixture through the repo root.
const FIXTURE = ['../../../test/bpf/btf_types.bpf.c', '../bpf/btf_types.bpf.c']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p))!;

const objects = new Map<string, Buffer>();
function compile(debug = true): Buffer {
  const key = debug ? 'g' : 'nog';
  let obj = objects.get(key);
  if (!obj) {
    const dir = mkdtempSync(join(tmpdir(), 'eunomia-btf-'));
    try {
      const out = join(dir, 'btf_types.bpf.o');
      const args = ['-O2', ...(debug ? ['-g'] : []), '-target', 'bpf', '-fms-extensions', '-Wno-microsoft-anon-tag', '-c', FIXTURE, '-o', out];
      const r = spawnSync(CLANG, args, { encoding: 'utf8' });
      assert.equal(r.status, 0, `${CLANG} failed: ${r.stderr}`);
      obj = readFileSync(out);
      objects.set(key, obj);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return obj;
}

function isError(code: ErrorCode, pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof EunomiaError, `expected EunomiaError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

function load(): { obj: Buffer; btf: Btf; sections: ReturnType<typeof readElfSections> } {
  const obj = compile();
  return { obj, btf: Btf.fromElf(obj), sections: readElfSections(obj) };
}

/** Bytes of a global variable as the compiler laid them out. */
function varBytes(name: string, section = '.data'): { btf: Btf; data: Buffer; offset: number; typeId: number } {
  const { btf, sections } = load();
  const v = btf.datasec(section)!.vars.find((x) => x.name === name)!;
  assert.ok(v, `variable ${name} not in ${section}`);
  return { btf, data: sections.get(section)!.data, offset: v.offset, typeId: v.typeId };
}

const EXPECTED_SAMPLE = {
  ts_ns: 123456789012345,
  pid: 4242,
  tid: 4243,
  u8v: 200,
  s8v: -5,
  u16v: 65000,
  s16v: -30000,
  u32v: 4000000000,
  s32v: -2000000000,
  u64v: 9007199254740991,
  s64v: -9007199254740991,
  u64big: 18446744073709551000n,
  s64neg: -9007199254740993n,
  s64min: -9223372036854775808n,
  u64max: 18446744073709551615n,
  s128v: -(1n << 100n),
  u128v: (0x0123456789abcdefn << 64n) | 0xfedcba9876543210n,
  flag_t: true,
  flag_f: false,
  plain_char: 65,
  comm: 'hello',
  full: 'abcd',
  empty: '',
  utf8: 'hé!',
  cname: 'const',
  uchars: 'xyz',
  schars: 'ab',
  bytes: [1, 2, 0, 255],
  bytes2: [0, 0, 7],
  grid: [
    [1, -2, 3],
    [-4, 5, -6],
  ],
  names: ['ab', 'cde'],
  many: Array.from({ length: 40 }, (_, i) => (i === 0 ? 1 : i === 1 ? 2 : i === 39 ? 65535 : 0)),
  in: { a: 7, b: -7 },
  pair: [
    { a: 1, b: -1 },
    { a: 2, b: -2 },
  ],
  word: 0x04030201,
  octets: [1, 2, 3, 4],
  anon_x: 11,
  anon_y: 12,
  un: { i: 0x3f800000, f: 1 },
  color: 'COLOR_GREEN',
  unknown_color: 7,
  lvl: 'LEVEL_NEG',
  lvl2: -7,
  w: 'WIDE_HUGE',
  w2: 'WIDE_SMALL',
  tn: 'TINY_B',
  bits: {
    a: 5,
    b: 100,
    c: 4000,
    d: -9,
    e: 31,
    f: 1099511627775,
    g: 0xabcdef,
    h: 0xfedcba987654321n,
    i: -3,
    col: 'COLOR_BLUE',
    flag: true,
  },
  ptr: 0x12345678,
  cptr: 0xffff888012345678n,
  fl: 1.5,
  db: -2.25,
  chained: 77,
  cv: 88,
  vol: -99,
  after_zero: 0xdeadbeef,
};

describe('ELF reader', { skip }, () => {
  test('lists the sections of an eBPF object', () => {
    const obj = compile();
    const s = readElfSections(obj);
    for (const name of ['.BTF', '.data', '.rodata', '.maps', 'license', '.bss', '.symtab']) assert.ok(s.has(name), name);
    assert.equal(s.get('license')!.data.toString('latin1'), 'GPL\0');
    const bss = s.get('.bss')!;
    assert.equal(bss.type, SHT_NOBITS);
    assert.equal(bss.size, 8);
    assert.equal(bss.data.length, 0);
    assert.equal(s.get('.BTF')!.data.readUInt16LE(0), 0xeb9f);
    const list = readElfSectionList(obj);
    const syms = readElfSymbols(obj, list);
    const pid = syms.find((x) => x.name === 'target_pid')!;
    assert.equal(list[pid.shndx]!.name, '.rodata');
    assert.equal(pid.size, 4);
  });

  test('rejects what is not a little-endian ELF64 eBPF object, with a clear message', () => {
    const obj = compile();
    const bad = (buf: Buffer, pattern: RegExp): void => {
      assert.throws(() => readElfSections(buf), isError(ErrorCodes.OBJECT_INVALID, pattern));
      assert.throws(() => Btf.fromElf(buf), isError(ErrorCodes.OBJECT_INVALID, pattern));
    };
    bad(Buffer.alloc(0), /not an ELF file/);
    bad(Buffer.from('#!/bin/sh\necho hi\n'), /not an ELF file \(bad magic/);
    bad(obj.subarray(0, 40), /truncated ELF header/);
    bad(obj.subarray(0, 1000), /section headers .* past the end of the file|run past the end of the file/);
    const c32 = Buffer.from(obj);
    c32[4] = 1;
    bad(c32, /32-bit.*only ELF64/);
    const be = Buffer.from(obj);
    be[5] = 2;
    bad(be, /big-endian.*only little-endian/);
    const x86 = Buffer.from(obj);
    x86.writeUInt16LE(62, 18);
    bad(x86, /ELF machine is 62 \(x86-64\), expected 247 \(BPF\)/);
    // a section pointing past the end of the file
    const shoff = Number(obj.readBigUInt64LE(0x28));
    const sect = Buffer.from(obj);
    sect.writeBigUInt64LE(BigInt(obj.length), shoff + 64 * 3 + 24);
    bad(sect, /section 3 .* runs past the end of the file/);
    // section names table index out of range
    const strndx = Buffer.from(obj);
    strndx.writeUInt16LE(500, 0x3e);
    bad(strndx, /section name table index 500 is out of range/);
  });

  test('a native executable is refused as non-BPF', { skip: !existsSync('/bin/true') && 'no /bin/true' }, () => {
    assert.throws(() => readElfSections(readFileSync('/bin/true')), isError(ErrorCodes.OBJECT_INVALID, /ELF machine is \d+ .*expected 247 \(BPF\)/));
  });

  test('an object compiled without -g has no BTF', () => {
    const obj = compile(false);
    assert.throws(() => Btf.fromElf(obj), isError(ErrorCodes.OBJECT_INVALID, /object has no \.BTF section — compile with clang -g/));
  });
});

describe('BTF from a clang object', { skip }, () => {
  test('types, lookups and resolution', () => {
    const { btf } = load();
    assert.equal(btf.types[0]!.kind, 'void');
    assert.equal(btf.types.length, btf.length);
    btf.types.forEach((t, i) => assert.equal(t.id, i));
    const all = btf.find('all_types', 'struct')!;
    assert.equal(all.kind, 'struct');
    assert.equal(btf.type(all.id), all);
    assert.equal(btf.find('all_types', 'union'), undefined);
    assert.equal(btf.find('no_such_type'), undefined);
    const chained = btf.find('chain_id_t')!;
    assert.equal(chained.kind, 'typedef');
    const r = btf.resolve(chained.id);
    assert.equal(r.kind, 'int');
    assert.equal(r.name, 'unsigned int');
    assert.equal(btf.sizeof(chained.id), 4);
    assert.equal(btf.find('level', 'enum')!.signed, true);
    assert.equal(btf.find('color', 'enum')!.signed, false);
    assert.equal(btf.find('wide')!.kind, 'enum64');
    assert.equal(btf.find('handle_exec', 'func')!.kind, 'func');
    assert.equal(btf.describe(btf.find('common', 'struct')!.id), 'struct common');
  });

  test('types are made as they are read: lookups first, then the whole list, give what the list alone gives', () => {
    const { obj } = load();
    const listed = Btf.fromElf(obj);
    const all = listed.types;
    const looked = Btf.fromElf(obj);
    // By name and by id, before the list is asked for: the same objects after, in it.
    const s = looked.find('all_types', 'struct')!;
    const data = looked.datasec('.data')!;
    assert.equal(looked.type(s.id), s);
    assert.equal(looked.types[s.id], s);
    assert.equal(looked.types[data.id], looked.type(data.id));
    // Fixed-up datasecs (sizes and offsets from the ELF) are the ones later reads get.
    assert.ok(data.size > 0 && looked.type(data.id).size === data.size);
    assert.deepEqual(looked.types, all);
    assert.equal(looked.length, all.length);
  });

  test('sizes agree with the ELF symbol sizes', () => {
    const { obj, btf } = load();
    const syms = readElfSymbols(obj);
    for (const sec of ['.data', '.rodata', '.bss']) {
      for (const v of btf.datasec(sec)!.vars) {
        const sym = syms.find((s) => s.name === v.name)!;
        assert.equal(btf.sizeof(v.typeId), sym.size, `${v.name}`);
        assert.equal(v.size, sym.size, `${v.name} secinfo size`);
      }
    }
  });

  test('datasecs get real sizes and offsets (libbpf-style fixup)', () => {
    const { btf, sections } = load();
    const data = btf.datasec('.data')!;
    assert.equal(data.size, sections.get('.data')!.size);
    const offsets = Object.fromEntries(data.vars.map((v) => [v.name, v.offset]));
    assert.equal(offsets.sample, 0);
    assert.ok(offsets.second! >= 432, 'second follows sample');
    const ro = btf.datasec('.rodata')!;
    assert.deepEqual(
      ro.vars.map((v) => v.name),
      ['target_pid', 'min_duration_ns', 'offset_s32', 'small_s8', 'verbose', 'prefix', 'mac', 'want_color', 'want_level', 'limits', 'ids', 'big_ids', 'rbits', 'tmpl', 'ratio'],
    );
    let end = 0;
    for (const v of [...ro.vars].sort((a, b) => a.offset - b.offset)) {
      assert.ok(v.offset >= end, `${v.name} overlaps`);
      end = v.offset + v.size;
    }
    assert.ok(end <= ro.size);
    assert.equal(btf.resolve(ro.vars[0]!.typeId).name, 'unsigned int');
    assert.deepEqual(btf.datasec('.bss')!.vars.map((v) => [v.name, v.offset, v.size]), [['counter', 0, 8]]);
    assert.equal(btf.datasec('.nope'), undefined);
    // the raw section, without the ELF, keeps clang's zeros
    assert.equal(Btf.parse(sections.get('.BTF')!.data).datasec('.data')!.size, 0);
  });

  test('map definitions from .maps', () => {
    const { btf } = load();
    assert.deepEqual(btf.maps(), ['foo_map', 'events', 'sized_map']);
    const foo = btf.mapTypes('foo_map')!;
    assert.equal(foo.type, 1);
    assert.equal(foo.maxEntries, 1234);
    assert.equal(foo.keyTypeId, btf.find('u32', 'typedef')!.id);
    assert.equal(foo.valueTypeId, btf.find('foo', 'struct')!.id);
    assert.equal(foo.keySize, 4);
    assert.equal(foo.valueSize, 16);
    const ev = btf.mapTypes('events')!;
    assert.equal(ev.type, 27);
    assert.equal(ev.maxEntries, 256 * 1024);
    assert.equal(ev.keyTypeId, undefined);
    const sized = btf.mapTypes('sized_map')!;
    assert.deepEqual([sized.type, sized.keySize, sized.valueSize, sized.maxEntries, sized.mapFlags], [2, 4, 8, 16, 1024]);
    assert.equal(btf.mapTypes('nope'), undefined);
    // a key/value round trip through the map's own types
    const value = encodeToBuffer(btf, foo.valueTypeId!, { a: 7, b: 2n ** 60n }, 'foo_map value');
    assert.deepEqual(compileDecoder(btf, foo.valueTypeId!).decode(value), { a: 7, b: 2n ** 60n });
    assert.equal(compileValueDecoder(btf, foo.keyTypeId!).decode(encodeToBuffer(btf, foo.keyTypeId!, 99, 'key')), 99);
  });
});

describe('decoder against compiler-initialised globals', { skip }, () => {
  test('every kind decodes to the C initialiser', () => {
    const { btf, data, offset } = varBytes('sample');
    const dec = compileDecoder(btf, 'all_types');
    assert.equal(dec.typeName, 'all_types');
    assert.equal(dec.size, btf.sizeof(btf.find('all_types', 'struct')!.id));
    assert.deepEqual(dec.decode(data, offset), EXPECTED_SAMPLE);
  });

  test('fields are flattened, ordered, and match the decoded keys', () => {
    const { btf, data, offset } = varBytes('sample');
    const dec = compileDecoder(btf, 'all_types');
    assert.deepEqual(
      dec.fields.map((f) => f.name),
      Object.keys(EXPECTED_SAMPLE),
    );
    assert.deepEqual(Object.keys(dec.decode(data, offset)), Object.keys(EXPECTED_SAMPLE));
    const by = Object.fromEntries(dec.fields.map((f) => [f.name, f]));
    assert.deepEqual([by.ts_ns!.offset, by.ts_ns!.size, by.ts_ns!.kind], [0, 8, 'u64']);
    assert.deepEqual([by.pid!.offset, by.pid!.kind], [8, 'u32']);
    assert.deepEqual([by.s8v!.kind, by.flag_t!.kind, by.plain_char!.kind], ['s8', 'bool', 'char']);
    assert.deepEqual([by.comm!.kind, by.comm!.size, by.comm!.type], ['string', 16, 'char[16]']);
    assert.deepEqual([by.bytes!.kind, by.grid!.kind, by.in!.kind, by.un!.kind], ['bytes', 'array', 'struct', 'union']);
    assert.deepEqual([by.color!.kind, by.w!.kind, by.ptr!.kind, by.fl!.kind], ['enum', 'enum', 'ptr', 'float']);
    assert.equal(by.word!.offset, by.octets!.offset);
    assert.equal(by.zero_len, undefined);
    assert.equal(by.s128v!.kind, 's128');
  });

  test('decl tags: "eunomia.strings" is a string list, "eunomia.hidden" is left out but listed', () => {
    const { btf, data, offset } = varBytes('tagged_sample');
    const dec = compileDecoder(btf, 'tagged');
    // An empty argument in the middle is kept; the zero fill after the last one is not.
    assert.deepEqual(dec.decode(data, offset), { n: 3, args: ['/bin/sh', '-c', '', 'echo hi'], empty: [], name: 'x' });
    const by = Object.fromEntries(dec.fields.map((f) => [f.name, f]));
    assert.deepEqual([by.ts_ns!.hidden, by.ts_ns!.offset, by.ts_ns!.size], [true, 0, 8]);
    assert.equal(by.args!.kind, 'strings');
    assert.equal(by.name!.kind, 'string');
    assert.equal(by.n!.hidden, undefined);
  });

  test('decl tags: "eunomia.length:FIELD" reads only the counted bytes, "eunomia.tail" lets a record end early', () => {
    const { btf, data, offset } = varBytes('tail_sample');
    const dec = compileDecoder(btf, 'tail_rec');
    const tail = btf.find('tail_rec', 'struct')!.members!.find((m) => m.name === 'big')!.bitOffset / 8;
    assert.equal(dec.minSize, tail);
    const whole = {
      kind: 7,
      argv_len: 5,
      argv: ['true'], // "left\0over" after the 5 counted bytes is not data
      label_len: 2,
      label: 'ab',
      big: 1,
      k: 'TAIL_ONE',
      yes: true,
      name: 'n',
      list: ['a', 'b'],
      pair: [1, 2],
      in: { a: 3, b: -3 },
      late_len: 9, // beyond its 4-byte array: clamped
      late: 'xyz',
    };
    assert.deepEqual(dec.decode(data, offset), whole);
    assert.deepEqual(dec.decode(data, offset, dec.size), whole);
    // Only the head: what follows decodes as zero bytes would, in the same keys and order.
    const head = dec.decode(data, offset, tail);
    assert.deepEqual(head, { ...whole, big: 0, k: 'TAIL_ZERO', yes: false, name: '', list: [], pair: [0, 0], in: { a: 0, b: 0 }, late_len: 0, late: '' });
    assert.deepEqual(Object.keys(head), Object.keys(whole));
    // Each head gets arrays and objects of its own.
    const again = dec.decode(data, offset, tail);
    assert.notEqual(again.pair, head.pair);
    assert.notEqual(again.in, head.in);
    assert.throws(() => dec.decode(data, offset, tail - 1), isError(ErrorCodes.READER, /record of \d+ bytes, shorter than its \d+-byte head/));
    // Without the tag, minSize is the size.
    assert.equal(compileDecoder(btf, 'tagged').minSize, compileDecoder(btf, 'tagged').size);
  });

  test('decl tags used wrongly are BTF errors', () => {
    const { btf } = load();
    assert.throws(() => compileDecoder(btf, 'tail_first'), isError(ErrorCodes.BTF, /eunomia\.tail.*after the first/));
    assert.throws(() => compileDecoder(btf, 'bad_length'), isError(ErrorCodes.BTF, /eunomia\.length:missing.*integer member/));
  });

  test('the tracing event with an anonymous common header', () => {
    const { btf, data, offset } = varBytes('sample_event');
    const dec = compileDecoder(btf, 'event');
    assert.equal(dec.size, 64);
    assert.deepEqual(dec.decode(data, offset), {
      ts_ns: 1700000000000000000n,
      pid: 1234,
      tid: 1235,
      ppid: 1,
      uid: 1000,
      cgroup_id: 4242,
      duration_ns: 1500000,
      exit_code: -1,
      flags: 3,
      comm: 'bash',
    });
  });

  test('nested types decode on their own too', () => {
    const { btf, data, offset } = varBytes('sample');
    const all = btf.find('all_types', 'struct')!;
    const off = (name: string): number => all.members!.find((m) => m.name === name)!.bitOffset / 8;
    assert.deepEqual(compileDecoder(btf, 'bits').decode(data, offset + off('bits')), EXPECTED_SAMPLE.bits);
    assert.deepEqual(compileDecoder(btf, 'num').decode(data, offset + off('un')), { i: 0x3f800000, f: 1 });
    assert.deepEqual(compileDecoder(btf, 'common').decode(data, offset), { ts_ns: 123456789012345, pid: 4242, tid: 4243 });
    const second = varBytes('second');
    assert.deepEqual(compileDecoder(btf, 'inner').decode(second.data, second.offset), { a: 1000, b: -1000 });
  });

  test('flexible array members are skipped and never read', () => {
    const { btf, data, offset } = varBytes('flex_sample');
    const dec = compileDecoder(btf, 'with_flex');
    assert.equal(dec.size, 4);
    assert.deepEqual(dec.decode(data, offset), { len: 3 });
    assert.deepEqual(dec.decode(data.subarray(offset, offset + 4)), { len: 3 });
  });

  test('decodes at any offset and reads only [offset, offset + size)', () => {
    const { btf, data, offset } = varBytes('sample');
    const dec = compileDecoder(btf, 'all_types');
    const record = data.subarray(offset, offset + dec.size);
    for (const fill of [0x00, 0xff, 0x41]) {
      for (const at of [0, 1, 7, 64]) {
        const buf = Buffer.alloc(at + dec.size + 3, fill);
        record.copy(buf, at);
        assert.deepEqual(dec.decode(buf, at), EXPECTED_SAMPLE);
        assert.deepEqual(dec.decode(buf.subarray(at, at + dec.size)), EXPECTED_SAMPLE);
      }
    }
  });

  test('short buffers and bad offsets are refused', () => {
    const { btf } = load();
    const dec = compileDecoder(btf, 'event');
    const buf = Buffer.alloc(100);
    assert.throws(() => dec.decode(buf.subarray(0, 63)), isError(ErrorCodes.READER, /need 64 bytes at offset 0, but the buffer has 63 bytes/));
    assert.throws(() => dec.decode(buf, 37), isError(ErrorCodes.READER, /offset 37/));
    assert.throws(() => dec.decode(buf, -1), isError(ErrorCodes.READER));
    assert.throws(() => dec.decode(buf, 1.5), isError(ErrorCodes.READER));
    assert.throws(() => dec.decode(buf, Number.NaN), isError(ErrorCodes.READER));
    assert.doesNotThrow(() => dec.decode(buf, 36));
  });

  test('decoders are cached and found by id or name', () => {
    const { btf } = load();
    const a = compileDecoder(btf, 'event');
    assert.equal(compileDecoder(btf, btf.find('event', 'struct')!.id), a);
    assert.equal(compileDecoder(btf, 'event'), a);
    assert.ok(Object.isFrozen(a) && Object.isFrozen(a.fields));
    assert.throws(() => compileDecoder(btf, 'u32'), isError(ErrorCodes.BTF, /expected a struct or union, got int/));
    assert.throws(() => compileDecoder(btf, 'no_such_struct'), isError(ErrorCodes.BTF, /'no_such_struct' not found/));
  });

  test('the .rodata datasec decodes as one record of initial values', () => {
    const { btf, sections } = load();
    const ro = compileDecoder(btf, '.rodata').decode(sections.get('.rodata')!.data);
    assert.equal(ro.target_pid, 0);
    assert.equal(ro.offset_s32, -1);
    assert.equal(ro.ratio, 0.5);
    assert.equal(ro.want_color, 'COLOR_RED');
    assert.deepEqual(ro.limits, { a: 1, b: 2 });
    assert.equal(decodeVariable(btf, '.rodata', 'ratio', sections.get('.rodata')!.data), 0.5);
  });
});

describe('encoder: .rodata options', { skip }, () => {
  const rodata = (): { btf: Btf; data: Buffer; read: () => Record<string, unknown> } => {
    const { btf, sections } = load();
    const data = Buffer.from(sections.get('.rodata')!.data); // a copy, like before load
    const dec = compileDecoder(btf, '.rodata');
    return { btf, data, read: () => dec.decode(data) };
  };

  test('round-trips every kind', () => {
    const { btf, data, read } = rodata();
    const cases: [string, unknown, unknown][] = [
      ['target_pid', 1234, 1234],
      ['target_pid', 4294967295, 4294967295],
      ['target_pid', '0x10', 16],
      ['min_duration_ns', 18446744073709551615n, 18446744073709551615n],
      ['min_duration_ns', 2n ** 53n, 9007199254740992n],
      ['min_duration_ns', '18446744073709551615', 18446744073709551615n],
      ['min_duration_ns', 1_000_000, 1_000_000],
      ['offset_s32', -2147483648, -2147483648],
      ['small_s8', -128, -128],
      ['small_s8', 127n, 127],
      ['verbose', true, true],
      ['verbose', false, false],
      ['prefix', 'abcdefg', 'abcdefg'],
      ['prefix', 'hé', 'hé'],
      ['prefix', '', ''],
      ['mac', [1, 2, 3, 4, 5, 255], [1, 2, 3, 4, 5, 255]],
      ['mac', Buffer.from([9, 8]), [9, 8, 0, 0, 0, 0]],
      ['want_color', 'COLOR_BLUE', 'COLOR_BLUE'],
      ['want_color', 1, 'COLOR_GREEN'],
      ['want_color', 9, 9],
      ['want_level', 'LEVEL_NEG', 'LEVEL_NEG'],
      ['want_level', -1, 'LEVEL_MINUS_ONE'],
      ['limits', { a: 65535, b: -32768 }, { a: 65535, b: -32768 }],
      ['limits', { b: 5 }, { a: 0, b: 5 }],
      ['ids', [7, -8], [7, -8, 0]],
      ['big_ids', [2n ** 64n - 1n, 5], [2n ** 64n - 1n, 5]],
      [
        'rbits',
        { a: 7, b: 127, c: 4095, d: -16, e: 0, f: 2 ** 40 - 1, g: 1, h: 2n ** 60n - 1n, i: -8, col: 'COLOR_GREEN', flag: true },
        { a: 7, b: 127, c: 4095, d: -16, e: 0, f: 2 ** 40 - 1, g: 1, h: 2n ** 60n - 1n, i: -8, col: 'COLOR_GREEN', flag: true },
      ],
      ['rbits', { d: 15, i: 7, col: 3 }, { a: 0, b: 0, c: 0, d: 15, e: 0, f: 0, g: 0, h: 0, i: 7, col: 3, flag: false }],
      [
        'tmpl',
        { ts_ns: 1n, pid: 2, tid: 3, ppid: 4, uid: 5, cgroup_id: 6, duration_ns: 7, exit_code: -8, flags: 9, comm: 'fifteen-chars!!' },
        { ts_ns: 1, pid: 2, tid: 3, ppid: 4, uid: 5, cgroup_id: 6, duration_ns: 7, exit_code: -8, flags: 9, comm: 'fifteen-chars!!' },
      ],
      ['ratio', 0.25, 0.25],
    ];
    for (const [name, value, expected] of cases) {
      const before = Buffer.from(data);
      encodeVariable(btf, '.rodata', name, value, data);
      assert.deepEqual(read()[name], expected, `${name} = ${String(value)}`);
      // nothing outside the variable changed
      const v = btf.datasec('.rodata')!.vars.find((x) => x.name === name)!;
      assert.deepEqual(data.subarray(0, v.offset), before.subarray(0, v.offset), `${name}: bytes before`);
      assert.deepEqual(data.subarray(v.offset + v.size), before.subarray(v.offset + v.size), `${name}: bytes after`);
    }
  });

  test('a whole datasec at once writes only the variables given', () => {
    const { btf, data, read } = rodata();
    const id = btf.datasec('.rodata')!.id;
    encodeValue(btf, id, { target_pid: 42, verbose: true, prefix: 'x' }, data, 0, 'rodata');
    const r = read();
    assert.deepEqual([r.target_pid, r.verbose, r.prefix, r.ratio, r.offset_s32], [42, true, 'x', 0.5, -1]);
    assert.throws(() => encodeValue(btf, id, { nope: 1 }, data, 0, 'rodata'), isError(ErrorCodes.OPTION, /^rodata: unknown field "nope"/));
    assert.throws(() => encodeValue(btf, id, { small_s8: 200 }, data, 0, 'rodata'), isError(ErrorCodes.OPTION, /^rodata small_s8: expected an integer -128\.\.127, got 200$/));
  });

  test('bad values give OPTION errors naming the variable and what was expected', () => {
    const { btf, data } = rodata();
    const bad = (name: string, value: unknown, pattern: RegExp): void => {
      const before = Buffer.from(data);
      assert.throws(() => encodeVariable(btf, '.rodata', name, value, data), isError(ErrorCodes.OPTION, pattern));
      void before;
    };
    bad('min_duration_ns', -1, /^rodata min_duration_ns: expected an integer 0\.\.18446744073709551615, got -1$/);
    bad('min_duration_ns', 2n ** 64n, /^rodata min_duration_ns: expected an integer 0\.\.18446744073709551615, got 18446744073709551616$/);
    bad('min_duration_ns', 2 ** 60, /^rodata min_duration_ns: expected an integer .*, got 1152921504606847000$/); // unsafe number
    bad('target_pid', 2 ** 32, /^rodata target_pid: expected an integer 0\.\.4294967295, got 4294967296$/);
    bad('target_pid', 1.5, /^rodata target_pid: expected an integer 0\.\.4294967295, got 1\.5$/);
    bad('target_pid', 'abc', /^rodata target_pid: expected an integer 0\.\.4294967295, got "abc"$/);
    bad('target_pid', null, /^rodata target_pid: .*got null$/);
    bad('target_pid', {}, /^rodata target_pid: .*got an object$/);
    bad('target_pid', true, /^rodata target_pid: .*got true$/);
    bad('offset_s32', 2147483648, /^rodata offset_s32: expected an integer -2147483648\.\.2147483647/);
    bad('small_s8', -129, /^rodata small_s8: expected an integer -128\.\.127, got -129$/);
    bad('verbose', 'yes', /^rodata verbose: expected a boolean, got "yes"$/);
    bad('prefix', 'abcdefgh', /^rodata prefix: expected a string of at most 7 bytes \(char\[8\] with its NUL\), got 8 bytes: "abcdefgh"$/);
    bad('prefix', 'éééé', /^rodata prefix: expected a string of at most 7 bytes .*got 8 bytes/);
    bad('prefix', 42, /^rodata prefix: expected a string of at most 7 bytes, got 42$/);
    bad('mac', 'aa:bb', /^rodata mac: expected an array of at most 6 elements, got "aa:bb"$/);
    bad('mac', [1, 2, 3, 4, 5, 6, 7], /^rodata mac: expected an array of at most 6 elements, got 7$/);
    bad('mac', [1, 256], /^rodata mac\[1\]: expected an integer 0\.\.255, got 256$/);
    bad('want_color', 'PURPLE', /^rodata want_color: expected one of COLOR_RED, COLOR_GREEN, COLOR_BLUE or an integer 0\.\.4294967295, got "PURPLE"$/);
    bad('want_level', 2 ** 31, /^rodata want_level: expected one of LEVEL_NEG, .* or an integer -2147483648\.\.2147483647/);
    bad('limits', { a: 1, c: 2 }, /^rodata limits: unknown field "c" \(struct inner has: a, b\)$/);
    bad('limits', { a: 70000 }, /^rodata limits\.a: expected an integer 0\.\.65535, got 70000$/);
    bad('limits', [1, 2], /^rodata limits: expected an object with fields of struct inner, got an array of 2 elements$/);
    bad('ids', [1, 2, 3, 4], /^rodata ids: expected an array of at most 3 elements, got 4$/);
    bad('rbits', { a: 8 }, /^rodata rbits\.a: expected an integer 0\.\.7 \(3-bit field\), got 8$/);
    bad('rbits', { d: 16 }, /^rodata rbits\.d: expected an integer -16\.\.15 \(5-bit field\), got 16$/);
    bad('rbits', { col: 'COLOR_PINK' }, /^rodata rbits\.col: expected one of COLOR_RED, COLOR_GREEN, COLOR_BLUE or an integer 0\.\.15/);
    bad('rbits', { flag: 2 }, /^rodata rbits\.flag: expected a boolean, got 2$/);
    bad('tmpl', { comm: 'a'.repeat(16) }, /^rodata tmpl\.comm: expected a string of at most 15 bytes/);
    bad('ratio', '0.5', /^rodata ratio: expected a number, got "0\.5"$/);
    bad('no_such_var', 1, /^rodata no_such_var: no variable 'no_such_var' in section \.rodata \(it has: target_pid, /);
  });

  test('a value that does not fit the target buffer is refused', () => {
    const { btf } = load();
    const u64 = btf.find('u64', 'typedef')!.id;
    assert.throws(() => encodeValue(btf, u64, 1, Buffer.alloc(4), 0, 'x'), isError(ErrorCodes.BTF, /does not fit at offset 0 of a 4-byte buffer/));
    assert.throws(() => encodeValue(btf, u64, 1, Buffer.alloc(16), 9, 'x'), isError(ErrorCodes.BTF, /does not fit/));
    assert.throws(() => encodeValue(btf, btf.find('handle_exec', 'func')!.id, 1, Buffer.alloc(16), 0, 'x'), isError(ErrorCodes.BTF));
  });
});

describe('robustness against corrupted objects', { skip }, () => {
  /** Deterministic PRNG so a failure can be reproduced. */
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x100000000;
    };
  }

  /** Everything a consumer might do with a parsed Btf; any failure must be an EunomiaError. */
  function exercise(btf: Btf, rnd: () => number): void {
    for (const t of btf.types) {
      attempt(() => btf.resolve(t.id));
      attempt(() => btf.sizeof(t.id));
      btf.describe(t.id);
    }
    for (const name of attempt(() => btf.maps()) ?? []) attempt(() => btf.mapTypes(name));
    attempt(() => btf.datasec('.rodata'));
    const composites = btf.types.filter((t) => t.kind === 'struct' || t.kind === 'union' || t.kind === 'datasec');
    const picks = [btf.find('all_types'), btf.find('event'), btf.find('.rodata')];
    for (let k = 0; k < 2 && composites.length; k++) picks.push(composites[Math.floor(rnd() * composites.length)]);
    for (const t of picks) {
      if (!t) continue;
      const dec = attempt(() => compileDecoder(btf, t.id));
      if (dec && dec.size <= 1 << 20) {
        dec.decode(Buffer.alloc(dec.size));
        const noise = Buffer.alloc(dec.size);
        for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 256);
        dec.decode(noise);
        attempt(() => encodeValue(btf, t.id, {}, Buffer.alloc(dec.size), 0, 'fuzz'));
      }
    }
  }

  function attempt<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (e instanceof EunomiaError) return undefined;
      throw e;
    }
  }

  function check(label: string, fn: () => void): 'ok' | 'error' {
    try {
      fn();
      return 'ok';
    } catch (e) {
      if (e instanceof EunomiaError) return 'error';
      throw new Error(`${label}: got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} instead of an EunomiaError`, { cause: e });
    }
  }

  test('random byte flips in .BTF give success or EunomiaError, never another exception', (t) => {
    const { sections } = load();
    const base = sections.get('.BTF')!.data;
    const rnd = prng(0x5eed);
    const tally = { ok: 0, error: 0 };
    for (let iter = 0; iter < 400; iter++) {
      const d = Buffer.from(base);
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) {
        // Bias towards the header and type section, where flips change structure.
        const where = rnd() < 0.2 ? Math.floor(rnd() * 24) : Math.floor(rnd() * d.length);
        d[where] = rnd() < 0.5 ? Math.floor(rnd() * 256) : d[where]! ^ (1 << Math.floor(rnd() * 8));
      }
      tally[check(`iteration ${iter}`, () => exercise(Btf.parse(d), rnd))]++;
    }
    t.diagnostic(`outcomes: ${JSON.stringify(tally)}`);
    assert.ok(tally.ok > 0 && tally.error > 0, 'fuzzing should hit both outcomes');
  });

  test('every truncation of .BTF is a clean error or success', () => {
    const { sections } = load();
    const base = sections.get('.BTF')!.data;
    for (let len = 0; len < base.length; len += 7) check(`length ${len}`, () => exercise(Btf.parse(base.subarray(0, len)), prng(len + 1)));
  });

  test('random byte flips in ELF headers give success or EunomiaError', () => {
    const obj = compile();
    const shoff = Number(obj.readBigUInt64LE(0x28));
    const rnd = prng(42);
    for (let iter = 0; iter < 300; iter++) {
      const d = Buffer.from(obj);
      const flips = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < flips; k++) {
        const where = rnd() < 0.3 ? Math.floor(rnd() * 64) : shoff + Math.floor(rnd() * (d.length - shoff));
        d[where] = Math.floor(rnd() * 256);
      }
      check(`elf iteration ${iter}`, () => {
        readElfSymbols(d);
        exercise(Btf.fromElf(d), rnd);
      });
    }
  });
});
