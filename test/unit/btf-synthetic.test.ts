/**
 * BTF built by hand: cases clang does not produce (old-style bitfields, fwd members, hostile
 * names) and malformed data. Needs no compiler.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Btf, compileDecoder, compileValueDecoder, encodeValue } from '../../src/core/btf/index.js';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';

type Member = [name: string, type: number, bitOffset: number, bitfieldSize?: number];

/** Writes raw .BTF bytes; ids are assigned in call order starting at 1. */
class BtfBuilder {
  private strings: Buffer[] = [Buffer.from([0])];
  private strLen = 1;
  private strIndex = new Map<string, number>([['', 0]]);
  private records: Buffer[] = [];

  str(s: string): number {
    let off = this.strIndex.get(s);
    if (off === undefined) {
      off = this.strLen;
      const b = Buffer.from(`${s}\0`, 'utf8');
      this.strings.push(b);
      this.strLen += b.length;
      this.strIndex.set(s, off);
    }
    return off;
  }

  private add(name: string, kind: number, vlen: number, kindFlag: boolean, sizeOrType: number, extra: number[] = []): number {
    const b = Buffer.alloc(12 + extra.length * 4);
    b.writeUInt32LE(this.str(name), 0);
    b.writeUInt32LE(((kindFlag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, 4);
    b.writeUInt32LE(sizeOrType >>> 0, 8);
    extra.forEach((v, i) => b.writeUInt32LE(v >>> 0, 12 + i * 4));
    this.records.push(b);
    return this.records.length;
  }

  int(name: string, size: number, opts: { signed?: boolean; bool?: boolean; char?: boolean; bits?: number; offset?: number } = {}): number {
    const enc = (opts.signed ? 1 : 0) | (opts.char ? 2 : 0) | (opts.bool ? 4 : 0);
    return this.add(name, 1, 0, false, size, [(enc << 24) | ((opts.offset ?? 0) << 16) | (opts.bits ?? size * 8)]);
  }
  ptr(type: number): number {
    return this.add('', 2, 0, false, type);
  }
  array(elem: number, index: number, n: number): number {
    return this.add('', 3, 0, false, 0, [elem, index, n]);
  }
  struct(name: string, size: number, members: Member[], kindFlag = false, kind = 4): number {
    const extra: number[] = [];
    for (const [n, type, off, bf = 0] of members) extra.push(this.str(n), type, kindFlag ? (bf << 24) | off : off);
    return this.add(name, kind, members.length, kindFlag, size, extra);
  }
  union(name: string, size: number, members: Member[]): number {
    return this.struct(name, size, members, false, 5);
  }
  enum(name: string, size: number, values: [string, number][], signed = false): number {
    return this.add(name, 6, values.length, signed, size, values.flatMap(([n, v]) => [this.str(n), v]));
  }
  enum64(name: string, values: [string, bigint][], signed = false): number {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, v);
      return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)];
    });
    return this.add(name, 19, values.length, signed, 8, extra);
  }
  fwd(name: string): number {
    return this.add(name, 7, 0, false, 0);
  }
  typedef(name: string, type: number): number {
    return this.add(name, 8, 0, false, type);
  }
  const(type: number): number {
    return this.add('', 10, 0, false, type);
  }
  float(name: string, size: number): number {
    return this.add(name, 16, 0, false, size);
  }
  variable(name: string, type: number): number {
    return this.add(name, 14, 0, false, type, [1]);
  }
  datasec(name: string, size: number, vars: [type: number, offset: number, size: number][]): number {
    return this.add(name, 15, vars.length, false, size, vars.flat());
  }
  raw(record: Buffer): void {
    this.records.push(record);
  }

  build(): Buffer {
    const types = Buffer.concat(this.records);
    const strs = Buffer.concat(this.strings);
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0);
    hdr[2] = 1;
    hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8);
    hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16);
    hdr.writeUInt32LE(strs.length, 20);
    return Buffer.concat([hdr, types, strs]);
  }
}

function btfError(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof EunomiaError, `expected EunomiaError, got ${String(e)}`);
    assert.equal(e.code, ErrorCodes.BTF);
    assert.match(e.message, pattern);
    return true;
  };
}

describe('synthetic BTF decoding', () => {
  test('old-style bitfields (kind_flag=0, width in the INT encoding)', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const u3 = b.int('unsigned int', 4, { bits: 3 });
    const s5 = b.int('int', 4, { bits: 5, signed: true });
    const u7at2 = b.int('unsigned int', 4, { bits: 7, offset: 2 }); // extra bit offset inside the INT
    b.struct('old', 8, [
      ['a', u3, 0],
      ['b', s5, 3],
      ['c', u7at2, 8], // bits 10..16
      ['d', u32, 32],
    ]);
    const btf = Btf.parse(b.build());
    const dec = compileDecoder(btf, 'old');
    const buf = Buffer.alloc(8);
    // a=5 (bits 0-2), b=-3 (0b11101 at bits 3-7), c=0x55 at bits 10-16, d=0xdeadbeef
    buf.writeUInt32LE((5 | (0b11101 << 3) | (0x55 << 10)) >>> 0, 0);
    buf.writeUInt32LE(0xdeadbeef, 4);
    assert.deepEqual(dec.decode(buf), { a: 5, b: -3, c: 0x55, d: 0xdeadbeef });
    const f = dec.fields.find((x) => x.name === 'c')!;
    assert.equal(f.kind, 'bitfield');
    assert.equal(f.bitOffset, 10);
    assert.equal(f.bitSize, 7);
    // encoder writes the same layout
    const out = Buffer.alloc(8);
    encodeValue(btf, btf.find('old')!.id, { a: 5, b: -3, c: 0x55, d: 0xdeadbeef }, out, 0, 'old');
    assert.deepEqual(out, buf);
  });

  test('bitfields wider than 32 bits and crossing many bytes', () => {
    const b = new BtfBuilder();
    const u64 = b.int('unsigned long long', 8);
    const s64 = b.int('long long', 8, { signed: true });
    b.struct('wide', 16, [
      ['x', u64, 3, 50], // bits 3..52: 7 bytes, number path
      ['y', s64, 53, 62], // bits 53..114: 9 bytes, bigint path
      ['z', u64, 115, 13],
    ], true);
    const btf = Btf.parse(b.build());
    const id = btf.find('wide')!.id;
    const dec = compileDecoder(btf, id);
    for (const v of [
      { x: 2 ** 50 - 1, y: -(2n ** 61n), z: 8191 },
      { x: 123456789012345, y: 2n ** 61n - 1n, z: 0 },
      { x: 0, y: -1, z: 1 },
      { x: 1, y: 4503599627370496, z: 4096 },
    ]) {
      const buf = Buffer.alloc(16);
      encodeValue(btf, id, v, buf, 0, 'wide');
      assert.deepEqual(dec.decode(buf), v);
    }
  });

  test('fwd and void members are skipped; flexible arrays are skipped; floats of odd size are skipped', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const fwd = b.fwd('opaque');
    const idx = b.int('__ARRAY_SIZE_TYPE__', 4);
    const flex = b.array(u32, idx, 0);
    const half = b.float('_Float16', 2);
    b.struct('s', 8, [
      ['a', u32, 0],
      ['f', fwd, 32],
      ['v', 0, 32],
      ['h', half, 32],
      ['tail', flex, 64],
    ]);
    const btf = Btf.parse(b.build());
    const dec = compileDecoder(btf, 's');
    assert.deepEqual(dec.decode(Buffer.from([1, 0, 0, 0, 9, 9, 9, 9])), { a: 1 });
    assert.deepEqual(dec.fields.map((f) => f.name), ['a']);
  });

  test('hostile member names become plain keys, never code', () => {
    const b = new BtfBuilder();
    const u8 = b.int('unsigned char', 1);
    const evil = 'x": globalThis.pwned = 1, "y';
    b.struct('evil', 4, [
      [evil, u8, 0],
      ['__proto__', u8, 8],
      ['constructor', u8, 16],
      ['a\u2028b', u8, 24],
    ]);
    const btf = Btf.parse(b.build());
    const out = compileDecoder(btf, 'evil').decode(Buffer.from([1, 2, 3, 4]));
    assert.equal((globalThis as unknown as Record<string, unknown>).pwned, undefined);
    assert.equal(out[evil], 1);
    assert.ok(Object.hasOwn(out, '__proto__'));
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(out.constructor, 3);
    assert.equal(out['a\u2028b'], 4);
    assert.deepEqual(Object.keys(out), [evil, '__proto__', 'constructor', 'a\u2028b']);
  });

  test('enum64 signed and unsigned, enums with many values, packed enums', () => {
    const b = new BtfBuilder();
    const e1 = b.enum64('s64e', [['MIN', -(2n ** 63n)], ['NEG', -1n], ['BIG', 2n ** 62n]], true);
    const e2 = b.enum64('u64e', [['TOP', 2n ** 64n - 1n], ['ONE', 1n]]);
    const many: [string, number][] = [];
    for (let i = 0; i < 1000; i++) many.push([`V${i}`, i * 3]);
    const e3 = b.enum('many', 4, many);
    const e4 = b.enum('packed', 1, [['NEG_ONE', -1]], true);
    b.struct('es', 28, [
      ['a', e1, 0],
      ['b', e2, 64],
      ['c', e3, 128],
      ['d', e4, 160],
      ['e', e4, 168],
    ]);
    const btf = Btf.parse(b.build());
    const id = btf.find('es')!.id;
    const dec = compileDecoder(btf, id);
    const buf = Buffer.alloc(28);
    for (const [v, want] of [
      [{ a: 'MIN', b: 'TOP', c: 'V999', d: 'NEG_ONE', e: 5 }, { a: 'MIN', b: 'TOP', c: 'V999', d: 'NEG_ONE', e: 5 }],
      [{ a: 'NEG', b: 2, c: 4, d: -1, e: -2 }, { a: 'NEG', b: 2, c: 4, d: 'NEG_ONE', e: -2 }],
      [{ a: 'BIG', b: 'ONE', c: 'V1', d: 0, e: 0 }, { a: 'BIG', b: 'ONE', c: 'V1', d: 0, e: 0 }],
      [{ a: 7, b: 2n ** 63n, c: 2 ** 32 - 1 }, { a: 7, b: 2n ** 63n, c: 2 ** 32 - 1, d: 0, e: 0 }],
    ] as const) {
      encodeValue(btf, id, v, buf, 0, 'es');
      assert.deepEqual(dec.decode(buf), want);
    }
    assert.throws(() => encodeValue(btf, id, { d: 128 }, buf, 0, 'es'), /es\.d: expected one of NEG_ONE or an integer -128\.\.127, got 128/);
    assert.throws(() => encodeValue(btf, id, { c: 'V1000' }, buf, 0, 'es'), /es\.c: expected one of V0, V1, .*\.\.\. or an integer 0\.\.4294967295, got "V1000"/);
  });

  test('char arrays: invalid UTF-8 does not throw, non-char typedefs are bytes, BTF_INT_CHAR counts as char', () => {
    const b = new BtfBuilder();
    const ch = b.int('char', 1, { signed: true });
    const u8 = b.typedef('u8', b.int('unsigned char', 1));
    const ch2 = b.int('my_char', 1, { char: true });
    const idx = b.int('__ARRAY_SIZE_TYPE__', 4);
    b.struct('strs', 16, [
      ['s', b.array(ch, idx, 6), 0],
      ['bytes', b.array(u8, idx, 4), 48],
      ['c2', b.array(ch2, idx, 6), 80],
    ]);
    const btf = Btf.parse(b.build());
    const dec = compileDecoder(btf, 'strs');
    const buf = Buffer.from([0xff, 0xfe, 0x41, 0xc3, 0, 0x42, 1, 2, 3, 4, 0x68, 0x69, 0, 0, 0, 0]);
    const out = dec.decode(buf);
    assert.equal(out.s, '\ufffd\ufffdA\ufffd');
    assert.deepEqual(out.bytes, [1, 2, 3, 4]);
    assert.equal(out.c2, 'hi');
    assert.deepEqual(dec.fields.map((f) => f.kind), ['string', 'bytes', 'string']);
  });

  test('strings stay exact through the short-string cache, whether it is hit, missed or switched off', () => {
    const b = new BtfBuilder();
    const ch = b.int('char', 1, { signed: true });
    const idx = b.int('__ARRAY_SIZE_TYPE__', 4);
    b.struct('names', 48, [
      ['comm', b.array(ch, idx, 16), 0],
      ['path', b.array(ch, idx, 32), 128],
    ]);
    const btf = Btf.parse(b.build());
    const id = btf.find('names')!.id;
    const dec = compileDecoder(btf, id);
    const buf = Buffer.alloc(48);
    const check = (comm: string, path: string): void => {
      encodeValue(btf, id, { comm, path }, buf, 0, 'names');
      assert.deepEqual(dec.decode(buf), { comm, path });
    };
    // unique strings (mostly misses: the cache turns itself off), then a few repeated ones (hits),
    // then unique again; lengths around the 12-char flat-string limit
    for (let i = 0; i < 5000; i++) check(`p${i}-${'x'.repeat(i % 14)}`.slice(0, 15), `/usr/lib/${i}/${'y'.repeat(i % 20)}`.slice(0, 31));
    for (let i = 0; i < 100_000; i++) check(['bash', 'sshd', 'systemd-journal', 'a'][i % 4]!, i % 2 ? '' : 'x');
    for (let i = 0; i < 3000; i++) check(`q${i}`, `é${i}`);
    check('fifteen-chars!!', 'thirty-one-characters-long-path');
  });

  test('decoders for plain values and byte-aligned whole-int bitfields', () => {
    const b = new BtfBuilder();
    const u16 = b.int('unsigned short', 2);
    const u32 = b.int('unsigned int', 4);
    b.struct('al', 4, [['a', u16, 0, 16], ['b', u16, 16, 16]], true);
    const btf = Btf.parse(b.build());
    const dec = compileDecoder(btf, 'al');
    assert.deepEqual(dec.decode(Buffer.from([1, 0, 2, 0])), { a: 1, b: 2 });
    assert.equal(dec.fields[0]!.kind, 'u16'); // read as a plain u16
    assert.equal(compileValueDecoder(btf, u32).decode(Buffer.from([1, 2, 3, 4])), 0x04030201);
  });

  test('an anonymous struct behind a typedef is named after the typedef; only Buffers are decoded', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const anon = b.struct('', 4, [['x', u32, 0]]);
    b.typedef('ev_t', anon);
    const btf = Btf.parse(b.build());
    const dec = compileDecoder(btf, 'ev_t');
    assert.equal(dec.typeName, 'ev_t');
    assert.deepEqual(dec.decode(Buffer.from([5, 0, 0, 0])), { x: 5 });
    assert.throws(
      () => dec.decode(new Uint8Array(4) as Buffer),
      (e: unknown) => e instanceof EunomiaError && e.code === ErrorCodes.READER && /ev_t: expected a Buffer, got Uint8Array/.test(e.message),
    );
    assert.equal(compileValueDecoder(btf, 'unsigned int').decode(Buffer.from([1, 0, 0, 0])), 1);
  });

  test('a datasec with its offsets filled in decodes as one record', () => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    const v1 = b.variable('first', u32);
    const v2 = b.variable('second', u32);
    b.datasec('.bss', 12, [[v1, 0, 4], [v2, 8, 4]]);
    const btf = Btf.parse(b.build());
    assert.deepEqual(btf.datasec('.bss')!.vars.map((v) => [v.name, v.typeId, v.offset]), [['first', u32, 0], ['second', u32, 8]]);
    assert.deepEqual(compileDecoder(btf, '.bss').decode(Buffer.from([1, 0, 0, 0, 9, 9, 9, 9, 2, 0, 0, 0])), { first: 1, second: 2 });
  });
});

describe('malformed BTF', () => {
  const good = (): Buffer => {
    const b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    b.struct('s', 4, [['a', u32, 0]]);
    return b.build();
  };

  test('header problems are named', () => {
    assert.throws(() => Btf.parse(Buffer.alloc(0)), btfError(/truncated header/));
    assert.throws(() => Btf.parse(Buffer.alloc(10)), btfError(/truncated header/));
    let d = good();
    d.writeUInt16LE(0x1234, 0);
    assert.throws(() => Btf.parse(d), btfError(/bad magic 0x1234/));
    d = good();
    d.writeUInt16LE(0x9feb, 0);
    assert.throws(() => Btf.parse(d), btfError(/big-endian/));
    d = good();
    d[2] = 2;
    assert.throws(() => Btf.parse(d), btfError(/unsupported version 2/));
    d = good();
    d.writeUInt32LE(8, 4);
    assert.throws(() => Btf.parse(d), btfError(/header length 8/));
    d = good();
    d.writeUInt32LE(0xffffff00, 12);
    assert.throws(() => Btf.parse(d), btfError(/type section .* runs past the end/));
    d = good();
    d.writeUInt32LE(0xffffff00, 16);
    assert.throws(() => Btf.parse(d), btfError(/string section .* runs past the end/));
    d = good();
    d.writeUInt32LE(0, 20);
    assert.throws(() => Btf.parse(d), btfError(/string section is empty/));
    assert.throws(() => Btf.parse(good().subarray(0, 40)), btfError(/runs past the end/));
    assert.throws(() => Btf.parse('nope' as unknown as Buffer), btfError(/expected a Buffer/));
  });

  test('type section problems are named', () => {
    // truncated record: the type section ends 2 bytes into the last record
    const d = good();
    d.writeUInt32LE(d.readUInt32LE(12) - 2, 12);
    assert.throws(() => Btf.parse(d), btfError(/type 2 \(struct\) is truncated|type 2 is truncated/));

    let b = new BtfBuilder();
    b.raw(Buffer.from([0, 0, 0, 0, 0, 0, 0, 25, 0, 0, 0, 0]));
    assert.throws(() => Btf.parse(b.build()), btfError(/type 1 has unknown kind 25/));

    b = new BtfBuilder();
    b.int('int', 3);
    assert.throws(() => Btf.parse(b.build()), btfError(/type 1 \(int\) 'int' has invalid size 3/));

    b = new BtfBuilder();
    b.int('int', 4, { bits: 40 });
    assert.throws(() => Btf.parse(b.build()), btfError(/invalid encoding/));

    b = new BtfBuilder();
    b.ptr(99);
    assert.throws(() => Btf.parse(b.build()), btfError(/type 1 \(ptr\) type refers to type 99, but there are only 2 types/));

    b = new BtfBuilder();
    b.struct('s', 4, [['a', 42, 0]]);
    assert.throws(() => Btf.parse(b.build()), btfError(/member 'a' refers to type 42/));

    // name offset beyond the string section
    b = new BtfBuilder();
    b.raw(Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]));
    assert.throws(() => Btf.parse(b.build()), btfError(/name offset 65535 is outside the string section/));

    // absurd vlen with no data behind it
    b = new BtfBuilder();
    b.raw(Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0, 4, 4, 0, 0, 0]));
    assert.throws(() => Btf.parse(b.build()), btfError(/type 1 \(struct\) is truncated/));
  });

  test('an unterminated name is caught', () => {
    const d = good();
    d[d.length - 1] = 0x41; // last string loses its NUL
    assert.throws(() => Btf.parse(d), btfError(/not NUL-terminated/));
  });

  test('typedef loops are reported, not followed forever', () => {
    const b = new BtfBuilder();
    // ids: 1 typedef a -> 2, 2 const -> 1, 3 struct with a member of type 1
    b.typedef('a', 2);
    b.const(1);
    b.struct('s', 4, [['m', 1, 0]]);
    const btf = Btf.parse(b.build());
    assert.throws(() => btf.resolve(1), btfError(/chain loops/));
    assert.throws(() => btf.sizeof(1), btfError(/chain loops/));
    assert.throws(() => compileDecoder(btf, 's'), btfError(/chain loops/));
  });

  test('self-containing types, array loops and huge sizes are rejected', () => {
    let b = new BtfBuilder();
    b.struct('self', 4, [['me', 1, 0]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 'self'), btfError(/contains itself/));

    b = new BtfBuilder();
    b.struct('anon_self', 4, [['', 1, 0]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 'anon_self'), btfError(/nested more than/));

    b = new BtfBuilder();
    b.array(1, 1, 2); // element type is itself
    assert.throws(() => Btf.parse(b.build()).sizeof(1), btfError(/nested more than/));

    b = new BtfBuilder();
    const u64 = b.int('unsigned long long', 8);
    const big = b.array(u64, u64, 0xffffffff);
    assert.throws(() => Btf.parse(b.build()).sizeof(big), btfError(/larger than 4 GiB/));

    b = new BtfBuilder();
    const u8 = b.int('unsigned char', 1);
    b.struct('huge', 0x80000000, [['a', u8, 0]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 'huge'), btfError(/decoders are limited/));

    b = new BtfBuilder();
    const many = b.array(b.int('unsigned char', 1), 1, 1 << 23);
    b.struct('wide', 1 << 23, Array.from({ length: 4 }, (_, i) => [`m${i}`, many, 0] as Member));
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 'wide'), btfError(/too complex/));
  });

  test('members outside their struct are rejected', () => {
    let b = new BtfBuilder();
    const u32 = b.int('unsigned int', 4);
    b.struct('s', 4, [['a', u32, 32]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 's'), btfError(/member 'a' of struct s \(offset 4, 4 bytes\) extends past the end/));

    b = new BtfBuilder();
    b.struct('s', 4, [['a', b.int('unsigned int', 4), 30, 5]], true);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 's'), btfError(/lies outside/));

    b = new BtfBuilder();
    b.struct('s', 8, [['a', b.int('unsigned int', 4), 4]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 's'), btfError(/not byte-aligned/));

    b = new BtfBuilder();
    const f = b.float('float', 4);
    b.struct('s', 4, [['a', f, 0, 3]], true);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), 's'), btfError(/bitfield of non-integer type float/));

    b = new BtfBuilder();
    const v = b.variable('x', b.int('unsigned int', 4));
    b.datasec('.data', 2, [[v, 0, 4]]);
    assert.throws(() => compileDecoder(Btf.parse(b.build()), '.data'), btfError(/variable 'x' .* lies outside section .data/));
  });

  test('lookups of missing or unsuitable types', () => {
    const btf = Btf.parse(good());
    assert.throws(() => btf.type(7), btfError(/type id 7 is out of range/));
    assert.throws(() => btf.type(-1), btfError(/out of range/));
    assert.throws(() => compileDecoder(btf, 'nope'), btfError(/type 'nope' not found/));
    assert.throws(() => compileDecoder(btf, 1), btfError(/expected a struct or union, got int/));
    assert.throws(() => compileDecoder(btf, 99), btfError(/out of range/));
    assert.throws(() => btf.sizeof(0), btfError(/has no size/));
    assert.equal(btf.find('s', 'union'), undefined);
    assert.equal(btf.datasec('.rodata'), undefined);
    assert.equal(btf.mapTypes('m'), undefined);
  });
});
