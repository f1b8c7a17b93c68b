/**
 * compileRecordDecoder (src/core/btf/records.ts) on BTF that clang-16 compiled: records longer or
 * shorter than their struct, as third-party tools send them. test/bpf/hot_varlen.bpf.c is
 * execsnoop's shape (a fixed head, then only the argument bytes used); SHAPES below covers the
 * other trailing members a record may have.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf, compileDecoder, compileRecordDecoder, EXTRA_KEY, type Decoder } from '../../src/core/btf/index.js';
import { EunomiaError, ErrorCodes } from '../../src/core/errors.js';
import { buildBpf, needsClang, repoRoot } from '../helpers.js';

const skip = needsClang;

/** Types only: globals (and pointers, for flexible members) are enough for clang to emit their BTF. */
const SHAPES = `
typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;

struct tail_u32 { __u32 id; __u32 vals[8]; };
struct flex_char { __u32 id; __u32 n; char data[]; };
struct flex_u32 { __u32 id; __u32 n; __u32 items[]; };
/* The flexible member starts inside the struct's tail padding: at 12 of 16 bytes. */
struct flex_pad { __u64 id; __u32 n; __u32 items[]; };
struct plain { __u64 a; __u32 b; __u16 c; __u16 d; };
struct p30 { __u16 kind; __u16 len; char name[26]; };
/* Tagged as Eunomia's own objects may be: a list of strings, and a record that may stop after a. */
struct tagged_strs { __u32 n; char argv[32] __attribute__((btf_decl_tag("eunomia.strings"))); };
struct tagged_tail { __u32 a; __u32 b __attribute__((btf_decl_tag("eunomia.tail"))); char s[8]; };

struct tail_u32 g_tail;
struct flex_char *g_flex_char;
struct flex_u32 *g_flex_u32;
struct flex_pad *g_flex_pad;
struct plain g_plain;
struct p30 g_p30;
struct tagged_strs g_tagged_strs;
struct tagged_tail g_tagged_tail;
char LICENSE[] __attribute__((section("license"))) = "GPL";
`;

let cached: { varlen: Btf; shapes: Btf } | undefined;
function btfs(): { varlen: Btf; shapes: Btf } {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-records-'));
  try {
    const src = join(dir, 'shapes.bpf.c');
    writeFileSync(src, SHAPES);
    const shapes = Btf.fromElf(readFileSync(buildBpf(src)));
    const varlen = Btf.fromElf(readFileSync(buildBpf(join(repoRoot, 'test/bpf/hot_varlen.bpf.c'))));
    cached = { varlen, shapes };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function struct(btf: Btf, name: string): number {
  const t = btf.find(name, 'struct');
  assert.ok(t, `struct ${name} not in BTF`);
  return t.id;
}

function records(btf: Btf, name: string, perf = false): Decoder {
  return compileRecordDecoder(btf, struct(btf, name), { perf });
}

function isReader(pattern: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof EunomiaError, `expected EunomiaError, got ${String(e)}`);
    assert.equal(e.code, ErrorCodes.READER, e.message);
    assert.match(e.message, pattern);
    return true;
  };
}

// struct exec_record: pid 0, ppid 4, args_count 8, args_size 12, comm 16..32, args 32..544.
const EXEC_HEAD = 32;
const EXEC_SIZE = 544;

/** An exec record as execsnoop sends it: the head and `args` (exactly these bytes). */
function execRecord(pid: number, comm: string, args: Buffer | string): Buffer {
  const a = typeof args === 'string' ? Buffer.from(args, 'latin1') : args;
  const b = Buffer.alloc(EXEC_HEAD + a.length);
  b.writeUInt32LE(pid, 0);
  b.writeUInt32LE(pid - 1, 4);
  b.writeUInt32LE(a.filter((c) => c === 0).length, 8);
  b.writeUInt32LE(a.length, 12);
  b.write(comm, 16, 15, 'latin1');
  a.copy(b, EXEC_HEAD);
  return b;
}

/** Records laid out as the reader hands them over: u32 length, u32 pad, the record padded to 8. */
function batch(recs: Buffer[]): { buf: Buffer; at: number[] } {
  const at: number[] = [];
  let n = 0;
  for (const r of recs) n += 8 + ((r.length + 7) & ~7);
  const buf = Buffer.alloc(n, 0xee); // not zero: nothing may read past its record unnoticed
  let off = 0;
  for (const r of recs) {
    buf.writeUInt32LE(r.length, off);
    r.copy(buf, off + 8);
    at.push(off + 8);
    off += 8 + ((r.length + 7) & ~7);
  }
  return { buf, at };
}

describe('compileRecordDecoder: execsnoop records (hot_varlen.bpf.c)', { skip }, () => {
  test('a full-size record decodes as compileDecoder does; minSize is the head before args', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    const full = compileDecoder(varlen, struct(varlen, 'exec_record'));
    assert.equal(dec.size, EXEC_SIZE);
    assert.equal(dec.minSize, EXEC_HEAD);
    const args = Buffer.alloc(EXEC_SIZE - EXEC_HEAD, 0x61);
    args[args.length - 1] = 0;
    const rec = execRecord(100, 'bash', args);
    assert.deepEqual(dec.decode(rec, 0, rec.length), full.decode(rec, 0));
    assert.equal(dec.decode(rec, 0, rec.length).args, 'a'.repeat(EXEC_SIZE - EXEC_HEAD - 1));
  });

  test('head + the argument bytes used: every field, args to its NUL', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    const rec = execRecord(4242, 'sh', 'ls\0-la\0');
    assert.deepEqual(dec.decode(rec, 0, rec.length), { pid: 4242, ppid: 4241, args_count: 2, args_size: 7, comm: 'sh', args: 'ls' });
    // The head alone: an exec with no arguments.
    const head = execRecord(7, 'init', '');
    assert.deepEqual(dec.decode(head, 0, head.length), { pid: 7, ppid: 6, args_count: 0, args_size: 0, comm: 'init', args: '' });
  });

  test('a string cut exactly at the record end, with no NUL, ends there (the bytes after it are not read)', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    const rec = Buffer.concat([execRecord(1, 'cat', 'hello'), Buffer.from('WORLD\0')]);
    assert.equal(dec.decode(rec, 0, EXEC_HEAD + 5).args, 'hello');
    assert.equal(dec.decode(rec, 0, EXEC_HEAD + 3).args, 'hel');
  });

  test('shorter than the head (cut inside comm, or before it) is an E_READER error naming both sizes', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    const rec = execRecord(1, 'bash', 'x\0');
    assert.throws(() => dec.decode(rec, 0, 24), isReader(/exec_record: a record of 24 bytes, shorter than the 32 bytes/));
    assert.throws(() => dec.decode(rec, 0, 31), isReader(/31 bytes, shorter than the 32/));
    assert.throws(() => dec.decode(rec, 0, 0), isReader(/0 bytes/));
  });

  test('one decoder, many records: a shorter record never shows bytes of a longer one before it', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    // No NUL in the arguments: a byte left over from an earlier record would lengthen the string.
    const long = execRecord(1, 'long', Buffer.alloc(300, 0x41));
    const mid = execRecord(2, 'mid', Buffer.alloc(100, 0x42));
    const short = execRecord(3, 'short', 'cd');
    const full = execRecord(4, 'full', Buffer.alloc(EXEC_SIZE - EXEC_HEAD, 0x43));
    const sequence: [Buffer, string][] = [
      [long, 'A'.repeat(300)],
      [mid, 'B'.repeat(100)],
      [short, 'cd'],
      [long, 'A'.repeat(300)],
      [short, 'cd'],
      [full, 'C'.repeat(EXEC_SIZE - EXEC_HEAD)],
      [short, 'cd'],
      [execRecord(5, 'none', ''), ''],
      [mid, 'B'.repeat(100)],
    ];
    for (const [rec, args] of sequence) {
      const d = dec.decode(rec, 0, rec.length);
      assert.equal(d.args, args, `record of pid ${String(d.pid)}`);
      assert.equal(d.pid, rec.readUInt32LE(0));
    }
  });

  test('records at their offsets in a batch buffer, as the reader lays them out', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record');
    const recs = [execRecord(10, 'a', 'one\0'), execRecord(11, 'bb', Buffer.alloc(EXEC_SIZE - EXEC_HEAD, 0x7a)), execRecord(12, 'ccc', 'three'), execRecord(13, 'dddd', '')];
    const { buf, at } = batch(recs);
    const got = recs.map((r, i) => dec.decode(buf, at[i], r.length));
    assert.deepEqual(
      got.map((d) => [d.pid, d.comm, d.args]),
      [
        [10, 'a', 'one'],
        [11, 'bb', 'z'.repeat(EXEC_SIZE - EXEC_HEAD)],
        [12, 'ccc', 'three'],
        [13, 'dddd', ''],
      ],
    );
    // A length reaching past the buffer is refused, not read from beyond it.
    assert.throws(() => dec.decode(buf, at[3], buf.length), isReader(/need \d+ bytes at offset \d+, but the buffer has \d+ bytes/));
    assert.throws(() => dec.decode(buf, buf.length - 40, 100), isReader(/but the buffer has/));
  });

  test('perf: a full record padded by perf has no _extra; one 8 bytes longer has', () => {
    const { varlen } = btfs();
    const dec = records(varlen, 'exec_record', true);
    const rec = Buffer.concat([execRecord(1, 'x', Buffer.alloc(EXEC_SIZE - EXEC_HEAD)), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])]);
    assert.equal(EXTRA_KEY in dec.decode(rec, 0, EXEC_SIZE + 4), false); // 4 + 548 = 552, 8-aligned
    assert.equal(dec.decode(rec, 0, EXEC_SIZE + 12)[EXTRA_KEY], Buffer.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]).toString('base64'));
  });
});

describe('compileRecordDecoder: other trailing members', { skip }, () => {
  test('a trailing non-char array is cut to the whole elements sent', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'tail_u32');
    assert.equal(dec.size, 36);
    assert.equal(dec.minSize, 4);
    const rec = Buffer.alloc(36);
    rec.writeUInt32LE(9, 0);
    for (let i = 0; i < 8; i++) rec.writeUInt32LE(100 + i, 4 + i * 4);
    assert.deepEqual(dec.decode(rec, 0, 36), { id: 9, vals: [100, 101, 102, 103, 104, 105, 106, 107] });
    assert.deepEqual(dec.decode(rec, 0, 4 + 12), { id: 9, vals: [100, 101, 102] });
    assert.deepEqual(dec.decode(rec, 0, 4 + 14), { id: 9, vals: [100, 101, 102] }, 'half an element is not one');
    assert.deepEqual(dec.decode(rec, 0, 4), { id: 9, vals: [] });
    assert.throws(() => dec.decode(rec, 0, 3), isReader(/tail_u32: a record of 3 bytes, shorter than the 4 bytes/));
  });

  test('a flexible char array takes the bytes past the struct, to its NUL or the record end', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'flex_char');
    assert.equal(dec.size, 8);
    const rec = Buffer.concat([Buffer.from([1, 0, 0, 0, 5, 0, 0, 0]), Buffer.from('hello\0junk')]);
    assert.deepEqual(dec.decode(rec, 0, rec.length), { id: 1, n: 5, data: 'hello' });
    assert.deepEqual(dec.decode(rec, 0, 8 + 3), { id: 1, n: 5, data: 'hel' });
    assert.deepEqual(dec.decode(rec, 0, 8), { id: 1, n: 5, data: '' });
    assert.equal(EXTRA_KEY in dec.decode(rec, 0, rec.length), false);
    assert.throws(() => dec.decode(rec, 0, 7), isReader(/flex_char: a record of 7 bytes, shorter than/));
  });

  test('a flexible u32 array takes the whole elements past the struct', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'flex_u32');
    const rec = Buffer.alloc(8 + 14);
    rec.writeUInt32LE(3, 0);
    rec.writeUInt32LE(3, 4);
    rec.writeUInt32LE(0xdeadbeef, 8);
    rec.writeUInt32LE(2, 12);
    rec.writeUInt32LE(3, 16);
    assert.deepEqual(dec.decode(rec, 0, rec.length), { id: 3, n: 3, items: [0xdeadbeef, 2, 3] });
    assert.deepEqual(dec.decode(rec, 0, 8), { id: 3, n: 3, items: [] });
  });

  test('a flexible array inside the tail padding starts at its own offset, not at the struct size', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'flex_pad');
    assert.equal(dec.size, 16);
    assert.equal(dec.minSize, 12);
    const rec = Buffer.alloc(12 + 12);
    rec.writeUInt32LE(77, 0);
    rec.writeUInt32LE(3, 8);
    for (let i = 0; i < 3; i++) rec.writeUInt32LE(10 + i, 12 + i * 4);
    assert.deepEqual(dec.decode(rec, 0, 24), { id: 77, n: 3, items: [10, 11, 12] });
    assert.deepEqual(dec.decode(rec, 0, 16), { id: 77, n: 3, items: [10] });
    assert.deepEqual(dec.decode(rec, 0, 12), { id: 77, n: 3, items: [] });
  });

  test('no trailing array: a shorter record is an error naming both sizes; a longer one keeps its extra bytes as _extra', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'plain');
    assert.equal(dec.size, 16);
    assert.equal(dec.minSize, 16);
    const extra = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
    const rec = Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 4, 0]), extra]);
    assert.throws(() => dec.decode(rec, 0, 15), isReader(/plain: a record of 15 bytes, shorter than its 16 bytes/));
    assert.deepEqual(dec.decode(rec, 0, 16), { a: 1, b: 2, c: 3, d: 4 });
    const d = dec.decode(rec, 0, 21);
    assert.deepEqual(Buffer.from(d[EXTRA_KEY] as string, 'base64'), extra);
    assert.deepEqual({ ...d, [EXTRA_KEY]: undefined }, { a: 1, b: 2, c: 3, d: 4, [EXTRA_KEY]: undefined });
    assert.throws(() => dec.decode(rec, 0, 22), isReader(/need 22 bytes at offset 0, but the buffer has 21 bytes/));
    assert.throws(() => dec.decode(rec, 0, 17.5), isReader(/invalid offset 0 or length 17.5/));
  });

  test('perf: a 30-byte struct arriving as 36 bytes (perf padding) has no _extra, as 44 bytes has 14', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'p30', true);
    assert.equal(dec.size, 30);
    const rec = Buffer.alloc(44);
    rec.writeUInt16LE(1, 0);
    rec.writeUInt16LE(4, 2);
    rec.write('name', 4);
    for (let i = 30; i < 44; i++) rec[i] = i;
    const at36 = dec.decode(rec, 0, 36);
    assert.deepEqual(at36, { kind: 1, len: 4, name: 'name' });
    assert.deepEqual(Buffer.from(dec.decode(rec, 0, 44)[EXTRA_KEY] as string, 'base64'), rec.subarray(30, 44));
    // Without perf, the same 36 bytes are 6 bytes more than the struct.
    assert.deepEqual(Buffer.from(records(shapes, 'p30').decode(rec, 0, 36)[EXTRA_KEY] as string, 'base64'), rec.subarray(30, 36));
  });

  test('offsets inside a bigger buffer, for every shape', () => {
    const { shapes } = btfs();
    const tail = Buffer.alloc(4 + 8);
    tail.writeUInt32LE(5, 0);
    tail.writeUInt32LE(50, 4);
    tail.writeUInt32LE(51, 8);
    const flex = Buffer.concat([Buffer.from([6, 0, 0, 0, 2, 0, 0, 0]), Buffer.from('hi')]);
    const plain = Buffer.concat([Buffer.from([7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 9, 0, 10, 0]), Buffer.from([0xab, 0xcd])]);
    const { buf, at } = batch([tail, flex, plain]);
    assert.deepEqual(records(shapes, 'tail_u32').decode(buf, at[0], tail.length), { id: 5, vals: [50, 51] });
    assert.deepEqual(records(shapes, 'flex_char').decode(buf, at[1], flex.length), { id: 6, n: 2, data: 'hi' });
    assert.deepEqual(records(shapes, 'plain').decode(buf, at[2], plain.length), { a: 7, b: 8, c: 9, d: 10, [EXTRA_KEY]: Buffer.from([0xab, 0xcd]).toString('base64') });
  });

  test('a tagged list of strings, cut short, record after record: no entry of an earlier record shows', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'tagged_strs');
    const rec = (argv: string): Buffer => {
      const b = Buffer.alloc(4 + argv.length);
      b.writeUInt32LE(argv.split('\0').length, 0);
      b.write(argv, 4, 'latin1');
      return b;
    };
    const sequence: [string, string[]][] = [
      ['one\0two\0three\0four\0', ['one', 'two', 'three', 'four']],
      ['x\0', ['x']],
      ['abcdefghij', ['abcdefghij']],
      ['y', ['y']],
      ['', []],
      ['p\0q', ['p', 'q']],
    ];
    for (const [argv, want] of sequence) {
      const r = rec(argv);
      assert.deepEqual(dec.decode(r, 0, r.length).argv, want, JSON.stringify(argv));
    }
  });

  test('a struct tagged "eunomia.tail" may stop at the tag, before its trailing array', () => {
    const { shapes } = btfs();
    const dec = records(shapes, 'tagged_tail');
    assert.equal(dec.minSize, 4);
    const rec = Buffer.from([1, 0, 0, 0, 2, 0, 0, 0, 0x61, 0x62, 0x63]);
    assert.deepEqual(dec.decode(rec, 0, 4), { a: 1, b: 0, s: '' });
    assert.deepEqual(dec.decode(rec, 0, 10), { a: 1, b: 2, s: 'ab' });
    assert.deepEqual(dec.decode(rec, 0, 4), { a: 1, b: 0, s: '' }, 'after a longer record');
    assert.throws(() => dec.decode(rec, 0, 3), isReader(/3 bytes, shorter than the 4 bytes/));
  });
});
