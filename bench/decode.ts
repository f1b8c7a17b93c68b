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
const DISTINCT = 1024;
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

function sampleValue(i: number): Record<string, unknown> {
  return {
    ts_ns: 1_700_000_000_000_000_000n + BigInt(i) * 1000n,
    pid: 1000 + i,
    tid: 1000 + i,
    ppid: 1 + (i % 50),
    uid: i % 3 === 0 ? 0 : 1000,
    cgroup_id: 4242 + (i % 16),
    duration_ns: 1_000_000 + i * 17,
    exit_code: i % 7 === 0 ? -1 : 0,
    flags: i & 0xf,
    comm: COMMS[i % COMMS.length],
  };
}

function main(): void {
  const [objPath, typeName = 'event'] = process.argv.slice(2);
  const obj = objPath ? readFileSync(objPath) : fixtureObject();

  let t0 = process.hrtime.bigint();
  const btf = Btf.fromElf(obj);
  const tParse = Number(process.hrtime.bigint() - t0) / 1e6;
  t0 = process.hrtime.bigint();
  const dec = compileDecoder(btf, typeName);
  const tCompile = Number(process.hrtime.bigint() - t0) / 1e6;
  const typeId = btf.find(typeName, 'struct')?.id ?? btf.find(typeName)!.id;

  const size = dec.size;
  const buf = Buffer.alloc(size * RECORDS);
  if (!objPath) {
    const distinct = Buffer.alloc(size * DISTINCT);
    for (let i = 0; i < DISTINCT; i++) encodeValue(btf, typeId, sampleValue(i), distinct, i * size, 'bench record');
    for (let i = 0; i < RECORDS; i += DISTINCT) distinct.copy(buf, i * size, 0, Math.min(DISTINCT, RECORDS - i) * size);
  } else {
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 2654435761) >>> 24; // arbitrary bytes
  }

  // Keep results alive so the JIT cannot drop the decode.
  let sink = 0;
  const pass = (): void => {
    for (let i = 0, o = 0; i < RECORDS; i++, o += size) {
      const ev = dec.decode(buf, o);
      if (ev.pid !== undefined) sink += 1;
    }
  };
  for (let w = 0; w < 5; w++) pass(); // warm-up: let TurboFan optimise

  let decoded = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(SECONDS * 1e9));
  let now = start;
  while (now < deadline) {
    pass();
    decoded += RECORDS;
    now = process.hrtime.bigint();
  }
  const secs = Number(now - start) / 1e9;
  const rate = decoded / secs;

  console.log(`btf: parse ${tParse.toFixed(2)} ms (${btf.types.length} types), compile '${dec.typeName}' ${tCompile.toFixed(2)} ms`);
  console.log(`decoder: ${dec.size}-byte struct ${dec.typeName}, ${dec.fields.length} fields: ${dec.fields.map((f) => f.name).join(', ')}`);
  console.log(`sample: ${JSON.stringify(dec.decode(buf, 0), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  console.log(
    `decode: ${(rate / 1e6).toFixed(2)} M decodes/s (${(1e9 / rate).toFixed(1)} ns each, ${((rate * size) / 1e6).toFixed(0)} MB/s; ${decoded} records in ${secs.toFixed(2)} s)`,
  );
  if (sink === 0) console.log('(no records)');
}

main();
