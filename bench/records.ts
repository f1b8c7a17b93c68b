/**
 * Micro-benchmark of records whose length is not their struct's (src/core/btf/records.ts).
 *   node dist/bench/records.js
 * Compiles test/bpf/hot_varlen.bpf.c (execsnoop's 544-byte `struct exec_record`: a 32-byte head
 * and `char args[512]`) and decodes, from a batch buffer laid out as the reader's (u32 length,
 * u32 pad, the record padded to 8), walked as the tracker's onBatch walks it:
 *   (a) full-size records through compileDecoder, the fixed-size baseline;
 *   (b) the same records through compileRecordDecoder;
 *   (c) head + 20–120 argument bytes, as execsnoop sends them, through compileRecordDecoder;
 *   (d) full records with 64 bytes more (kept as base64 in `_extra`).
 * Rounds alternate between the four; each figure is the median round.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Btf, compileDecoder, compileRecordDecoder, type Decoder } from '../src/core/btf/index.js';
import { buildBpf, repoRoot } from '../test/helpers.js';

const RECORDS = 4096;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
/** Each round decodes the batch this many times (~0.1–0.3 s a round here). */
const PASSES = Number(process.env.BENCH_PASSES ?? 40);
const HEAD = 32;
const SIZE = 544;

const COMMS = ['bash', 'sh', 'node', 'python3', 'containerd-shim', 'runc', 'git', 'make'];
const WORDS = ['ls', '-la', '/tmp', '--color=auto', 'grep', '-r', 'TODO', 'src/', '/usr/bin/env', 'python3', '-m', 'pip', 'install', 'requests==2.31.0', '-c', 'echo hello world'];

/** NUL-separated arguments, 20–120 bytes in all, different for each `i`. */
function argBytes(i: number): Buffer {
  const want = 20 + ((i * 37) % 101);
  const parts: Buffer[] = [];
  let n = 0;
  for (let k = i; n < want; k = (k * 7 + 3) % 1009) {
    const w = Buffer.from(`${WORDS[k % WORDS.length]}\0`);
    parts.push(w);
    n += w.length;
  }
  return Buffer.concat(parts).subarray(0, want);
}

/** One record: the head, the arguments, then `pad` zero bytes (the unused buffer) and `extra` bytes. */
function record(i: number, args: Buffer, pad: number, extra: number): Buffer {
  const b = Buffer.alloc(HEAD + args.length + pad + extra);
  b.writeUInt32LE(1000 + i, 0);
  b.writeUInt32LE(1 + (i % 50), 4);
  b.writeUInt32LE(args.filter((c) => c === 0).length, 8);
  b.writeUInt32LE(args.length, 12);
  b.write(COMMS[i % COMMS.length], 16, 15, 'latin1');
  args.copy(b, HEAD);
  for (let k = 0; k < extra; k++) b[HEAD + args.length + pad + k] = (i + k * 31) & 0xff;
  return b;
}

function batch(recs: Buffer[]): Buffer {
  let n = 0;
  for (const r of recs) n += 8 + ((r.length + 7) & ~7);
  const buf = Buffer.alloc(n);
  let off = 0;
  for (const r of recs) {
    buf.writeUInt32LE(r.length, off);
    r.copy(buf, off + 8);
    off += 8 + ((r.length + 7) & ~7);
  }
  return buf;
}

interface Scenario {
  label: string;
  decoder: Decoder;
  buf: Buffer;
  bytes: number;
  ns: number[];
}

/** One pass over the batch as onBatch walks it; returns something of every record, so nothing is dropped by the JIT. */
function pass(dec: Decoder, buf: Buffer): number {
  let sink = 0;
  let off = 0;
  for (let i = 0; i < RECORDS; i++) {
    const len = buf.readUInt32LE(off);
    const rec = (off + 8) >>> 0;
    off = (rec + ((len + 7) & ~7)) >>> 0;
    const d = dec.decode(buf, rec, len);
    sink += (d.pid as number) + (d.args as string).length;
  }
  return sink;
}

function round(s: Scenario): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < PASSES; p++) sink += pass(s.decoder, s.buf);
  const ns = Number(process.hrtime.bigint() - t0) / (PASSES * RECORDS);
  if (sink === 0) console.log('(nothing decoded)');
  return ns;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function main(): void {
  const obj = readFileSync(buildBpf(join(repoRoot, 'test/bpf/hot_varlen.bpf.c')));
  // A Btf of its own per scenario: each gets its own generated function, as each tracker has.
  const decoder = (records: boolean): Decoder => {
    const btf = Btf.fromElf(obj);
    const id = btf.find('exec_record', 'struct')!.id;
    return records ? compileRecordDecoder(btf, id) : compileDecoder(btf, id);
  };
  const args = Array.from({ length: RECORDS }, (_, i) => argBytes(i));
  const fullRecs = args.map((a, i) => record(i, a, SIZE - HEAD - a.length, 0));
  const varRecs = args.map((a, i) => record(i, a, 0, 0));
  const longRecs = args.map((a, i) => record(i, a, SIZE - HEAD - a.length, 64));
  const avg = (rs: Buffer[]): number => rs.reduce((n, r) => n + r.length, 0) / rs.length;
  const scenarios: Scenario[] = [
    { label: '(a) full 544-byte records, compileDecoder', decoder: decoder(false), buf: batch(fullRecs), bytes: avg(fullRecs), ns: [] },
    { label: '(b) the same, compileRecordDecoder', decoder: decoder(true), buf: batch(fullRecs), bytes: avg(fullRecs), ns: [] },
    { label: '(c) head + 20–120 argument bytes', decoder: decoder(true), buf: batch(varRecs), bytes: avg(varRecs), ns: [] },
    { label: '(d) 64 bytes past the struct (_extra)', decoder: decoder(true), buf: batch(longRecs), bytes: avg(longRecs), ns: [] },
  ];
  for (const s of scenarios) for (let w = 0; w < 20; w++) pass(s.decoder, s.buf); // warm-up: let TurboFan optimise
  for (let r = 0; r < ROUNDS; r++) for (const s of scenarios) s.ns.push(round(s));

  console.log(`variable-length records (bench/records.ts): struct exec_record (${SIZE} bytes, ${HEAD}-byte head), ${RECORDS} records a batch, median of ${ROUNDS} rounds × ${PASSES} passes, node ${process.version}`);
  const rows = scenarios.map((s) => {
    const ns = median(s.ns);
    return [s.label, s.bytes.toFixed(0), ns.toFixed(1), `${Math.min(...s.ns).toFixed(1)}–${Math.max(...s.ns).toFixed(1)}`, (1e3 / ns).toFixed(2)];
  });
  const head = ['records', 'bytes (avg)', 'ns/record', 'range', 'M records/s'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

main();
