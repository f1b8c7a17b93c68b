/**
 * Micro-benchmark of BTF-generated event decoders.
 *   node dist/bench/decode.js [object.o [struct-name]]
 * Without arguments it compiles test/bpf/btf_types.bpf.c with clang-16 and decodes its
 * 64-byte `struct event` (common header, pid/ppid, u64s, comm[16]).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Btf, compileDecoder, encodeValue } from '../src/core/btf/index.js';

const RECORDS = 100_000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function fixtureObject(): Buffer {
  // dist/bench/decode.js and bench/decode.ts sit at different depths.
  const source = ['../../test/bpf/btf_types.bpf.c', '../test/bpf/btf_types.bpf.c']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p));
  if (!source) throw new Error('test/bpf/btf_types.bpf.c not found');
  const dir = mkdtempSync(join(tmpdir(), 'eunomia-bench-'));
  try {
    const out = join(dir, 'btf_types.bpf.o');
    execFileSync('clang-16', ['-O2', '-g', '-target', 'bpf', '-fms-extensions', '-Wno-microsoft-anon-tag', '-c', source, '-o', out]);
    return readFileSync(out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const COMMS = ['bash', 'sshd', 'containerd-shim', 'node', 'kworker/u8:2', 'python3', 'nginx', 'systemd-journal'];

interface Scenario {
  label: string;
  value(i: number): Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  {
    // bpf_ktime_get_ns() counts from boot, so stays a JS number for 104 days of uptime.
    label: 'typical: 8 process names, ts since boot',
    value: (i) => ({
      ts_ns: 36_000_000_000_000 + i * 1000,
      pid: 1000 + i,
      tid: 1000 + i,
      ppid: 1 + (i % 50),
      uid: i % 3 === 0 ? 0 : 1000,
      cgroup_id: 4242 + (i % 16),
      duration_ns: 1_000_000 + i * 17,
      exit_code: i % 7 === 0 ? -1 : 0,
      flags: i & 0xf,
      comm: COMMS[i % COMMS.length],
    }),
  },
  {
    // Wall-clock ns (> 2^53) become bigints; unique names defeat the string cache.
    label: 'worst: unique names, wall-clock ts (bigint)',
    value: (i) => ({
      ts_ns: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
      pid: 1000 + i,
      tid: 1000 + i,
      ppid: 1,
      uid: 1000,
      cgroup_id: 4242,
      duration_ns: 1_000_000 + i * 17,
      exit_code: 0,
      flags: 1,
      comm: `worker-${i}-${(i * 7919) % 100000}`.slice(0, 15),
    }),
  },
];

function fill(btf: Btf, typeId: number, size: number, scenario: Scenario | undefined): Buffer {
  const buf = Buffer.alloc(size * RECORDS);
  if (!scenario) {
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24; // arbitrary bytes
    return buf;
  }
  for (let i = 0; i < RECORDS; i++) encodeValue(btf, typeId, scenario.value(i), buf, i * size, 'bench record');
  return buf;
}

/** Decodes/s over ~SECONDS, after a warm-up that lets TurboFan optimise. */
function measure(decode: (buf: Buffer, offset?: number) => Record<string, unknown>, buf: Buffer, size: number): { rate: number; decoded: number; secs: number } {
  let sink = 0; // results are used, so the JIT cannot drop the decode
  for (let w = 0; w < 5; w++) for (let i = 0; i < RECORDS; i++) sink += decode(buf, i * size).pid === undefined ? 0 : 1;
  let decoded = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < RECORDS; i++) {
      const comm = decode(buf, i * size).comm;
      sink += typeof comm === 'string' && comm.length > 0 ? comm.charCodeAt(comm.length - 1) : 1;
    }
    decoded += RECORDS;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  if (sink === 0) console.log('(nothing decoded)');
  return { rate: decoded / secs, decoded, secs };
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));

function main(): void {
  const [objPath, typeName = 'event'] = process.argv.slice(2);
  const obj = objPath ? readFileSync(objPath) : fixtureObject();

  let t0 = process.hrtime.bigint();
  const btf = Btf.fromElf(obj);
  const tParse = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  const dec = compileDecoder(btf, typeName);
  const tCompile = Number(process.hrtime.bigint() - t0) / 1e6;
  const typeId = (btf.find(typeName, 'struct') ?? btf.find(typeName))!.id;

  console.log(`btf: parse ${tParse.toFixed(2)} ms (${btf.types.length} types), compile '${dec.typeName}' ${tCompile.toFixed(2)} ms`);
  console.log(`decoder: ${dec.size}-byte struct ${dec.typeName}, ${dec.fields.length} fields: ${dec.fields.map((f) => f.name).join(', ')}`);
  for (const scenario of objPath ? [undefined] : SCENARIOS) {
    // A fresh decoder per scenario, so one scenario's JIT/cache state does not help the next.
    const decode = compileDecoder(Btf.fromElf(obj), typeName).decode;
    const buf = fill(btf, typeId, dec.size, scenario);
    const { rate, decoded, secs } = measure(decode, buf, dec.size);
    console.log(`  sample: ${json(decode(buf, dec.size * 7))}`);
    console.log(
      `decode [${scenario?.label ?? 'arbitrary bytes'}]: ${(rate / 1e6).toFixed(2)} M decodes/s ` +
        `(${(1e9 / rate).toFixed(0)} ns each, ${((rate * dec.size) / 1e6).toFixed(0)} MB/s; ${decoded} records in ${secs.toFixed(2)} s)`,
    );
  }
}

main();
