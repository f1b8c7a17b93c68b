/**
 * `npm run bench`: prints figures, asserts nothing.
 *  1. kernel → decoded JavaScript events through the pipeline: peak rate, and loss at a
 *     sustained 200,000 events/s for 10 s (a getppid() per record);
 *  2. time to start the process tracker (open + load + attach), p50/p95;
 *  3. footprint: each command's modules and start, spawn → attached for every tracker and the
 *     server, RSS idle / under load / after a burst of API work (bench/footprint.ts);
 *  4. container enrichment: cost per event, and first exec → named event (bench/containers.ts);
 *  5. `eunomia server`: start and push to first streamed event, idle cost (bench/server.ts);
 *  6. the security rules: throughput with all rules versus none, attack → alert (bench/rules.ts);
 *  7. the Prometheus exporter: /metrics scrape time and size with 1,000 containers' series,
 *     cost per event (bench/metrics.ts);
 *  8. slow-down per tracker (bench/overhead.ts);
 *  9. secsnoop's path and option filters: ns per rename, unlink, setsockopt none matches (bench/secsnoop.ts);
 * 10. records of another length than their struct (execsnoop's), decoded from memory (bench/records.ts), after decode.ts;
 * 11. the event store: its writer's rows/s and what storing costs the server's pipeline (bench/store.ts);
 * 12. query latency over 1 M stored rows (bench/query.ts); 13. the console's first paint and live-update latency in Chromium (bench/console.ts).
 * 14. `eunomia doctor`'s run time, and each of its kernel probes' (bench/doctor.ts).
 * `npm run bench -- overhead`, `-- flow`, `-- footprint [commands|start|memory|exec]`, `-- containers`, `-- server`, `-- rules`, `-- metrics`, `-- secsnoop`, `-- records`, `-- store`, `-- query`, `-- console` or `-- doctor` runs only that part;
 * `-- seccomp` runs what recording a container's syscalls costs (bench/seccomp.ts), only when asked;
 * `-- profile` what profiling costs (bench/profile.ts), the same way.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { systemClock } from '../src/core/clock.js';
import { preflight } from '../src/core/kernel.js';
import { TrackerManager } from '../src/runtime/manager.js';
import { findTracker } from '../src/trackers/registry.js';
import { loadNative } from '../src/core/native.js';
import { countingSink, mapHandler } from '../src/pipeline/handlers.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { TrackerDescriptor } from '../src/runtime/types.js';
import { buildBpf, isRoot, repoRoot } from '../test/helpers.js';
import { containerBench } from './containers.js';
import { measureOverheads, overheadTable } from './overhead.js';
import { metricsBench } from './metrics.js';
import { rulesBench } from './rules.js';
import { secsnoopBench } from './secsnoop.js';
import { seccompBench } from './seccomp.js';
import { profileBench } from './profile.js';
import { footprintBench } from './footprint.js';
import { serverBench } from './server.js';

const native = loadNative();

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

interface FlowResult {
  generated: number;
  received: number;
  lostKernel: number;
  lostQueue: number;
  seconds: number;
  /** CPU seconds Eunomia's process (all its threads) used while the generator ran. */
  cpu: number;
}

async function flow(objDir: string, genBin: string, rate: number, seconds: number): Promise<FlowResult> {
  const gen = spawn(genBin, [String(rate), String(seconds)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  gen.stdout!.on('data', (d) => (out += d));
  const done = new Promise((r) => gen.on('exit', r));
  const bench: TrackerDescriptor = {
    name: 'bench',
    summary: 'benchmark source',
    object: 'bench.bpf.o',
    event: { struct: 'bench_event', map: 'events' },
    options: [],
    columns: [],
    ringBytes: 16 << 20,
  };
  const sink = countingSink();
  // One pass-through handler so events really traverse a handler chain to a sink.
  const pipeline = new Pipeline({ handlers: [mapHandler('pass', (ev) => ev)], sinks: [sink] });
  const m = new TrackerManager({ native, clock: systemClock(), emit: pipeline.push, objectDir: objDir, pollMs: 2 });
  const inst = m.start(bench, { pid: gen.pid });
  const cpu0 = process.cpuUsage();
  gen.stdin!.end('go\n');
  await done;
  const cpu1 = process.cpuUsage(cpu0);
  const stats = await m.stop(inst.id);
  await pipeline.close();
  const [calls, secs] = out.trim().split(' ').map(Number);
  return { generated: calls, received: sink.count, lostKernel: stats.lostKernel, lostQueue: stats.lostQueue, seconds: secs, cpu: (cpu1.user + cpu1.system) / 1e6 };
}

function report(label: string, r: FlowResult): void {
  console.log(
    `${label}: generated ${fmt(r.generated)} (${fmt(r.generated / r.seconds)}/s), received+decoded ${fmt(r.received)} ` +
      `(${fmt(r.received / r.seconds)}/s), lost in kernel ${fmt(r.lostKernel)}, lost in native queue ${fmt(r.lostQueue)}, ` +
      `unaccounted ${fmt(r.generated - r.received - r.lostKernel - r.lostQueue)}; ` +
      `Eunomia CPU ${r.cpu.toFixed(2)} s in ${r.seconds.toFixed(1)} s (${fmt(r.received / r.cpu)} events per CPU-second)`,
  );
}

async function startTimes(n: number): Promise<void> {
  const m = new TrackerManager({ native, clock: systemClock(), emit: () => {} });
  const total: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < n; i++) {
    const inst = m.start(findTracker('process'));
    total.push(inst.timings.openMs + inst.timings.loadMs + inst.timings.attachMs);
    load.push(inst.timings.loadMs);
    await m.stop(inst.id);
  }
  console.log(
    `process tracker start (open+load+attach) over ${n} starts: p50 ${percentile(total, 50).toFixed(1)} ms, ` +
      `p95 ${percentile(total, 95).toFixed(1)} ms (load alone p50 ${percentile(load, 50).toFixed(1)} ms)`,
  );
}

async function main(): Promise<void> {
  const only = process.argv[2]; // `npm run bench -- overhead` (or flow, footprint, containers, server, rules, metrics, secsnoop, records): only that part
  if (only === 'records') return recordsBench(); // from memory: needs neither root nor the kernel
  if (only === 'query') return (await import('./query.js')).queryBench(); // query latency over 1 M rows in the real store, no kernel needed (bench/query.ts)
  if (!isRoot) {
    console.log('bench: needs root (CAP_BPF and CAP_PERFMON) — run with sudo');
    process.exitCode = 1;
    return;
  }
  preflight(native);
  const obj = buildBpf(join(repoRoot, 'bench/bpf/bench.bpf.c'));
  const genBin = join(mkdtempSync(join(tmpdir(), 'eunomia-gen-')), 'gen');
  execFileSync('cc', ['-O2', '-o', genBin, join(repoRoot, 'bench/gen.c')]);
  const workBin = join(dirname(genBin), 'work');
  execFileSync('cc', ['-O2', '-o', workBin, join(repoRoot, 'bench/work.c')]);
  const objDir = dirname(obj);
  console.log(`eunomia bench — ${native.libbpfVersion()}, node ${process.version}, ${native.numPossibleCpus()} CPUs`);
  if (only === 'flow') return throughputAndStartup(objDir, genBin);
  if (only === 'footprint') return footprintBench(workBin, process.argv[3]);
  if (only === 'containers') return containerBench(native);
  if (only === 'server') return serverBench();
  if (only === 'rules') return rulesBench(native);
  if (only === 'metrics') return metricsBench(native);
  if (only === 'secsnoop') return secsnoopBench(native, workBin);
  if (only === 'seccomp') return seccompBench(native);
  if (only === 'profile') return profileBench(native);
  if (only === 'store') return (await import('./store.js')).storeBench(native); // the event store's writer and its cost on the pipeline (bench/store.ts)
  if (only === 'console') return (await import('./console.js')).consoleBench(); // the web console in Chromium (bench/console.ts)
  if (only === 'doctor') return (await import('./doctor.js')).doctorBench(); // eunomia doctor's run time (bench/doctor.ts)
  if (only !== 'overhead') {
    await throughputAndStartup(objDir, genBin);
    console.log('');
    await footprintBench(workBin);
    console.log('');
    await containerBench(native);
    console.log('');
    await serverBench();
    console.log('');
    await rulesBench(native);
    console.log('');
    await metricsBench(native);
  }
  console.log('\nslow-down per tracker (workload rate untraced / traced; 1.5 s runs: untraced, traced, untraced):');
  console.log(overheadTable(await measureOverheads(native, workBin)));
  if (only !== 'overhead') {
    console.log('');
    await secsnoopBench(native, workBin);
    // Issue 20's parts: the store's writer and its cost, query latency over 1 M rows, the console.
    console.log('');
    await (await import('./store.js')).storeBench(native);
    console.log('');
    await (await import('./query.js')).queryBench();
    console.log('');
    await (await import('./console.js')).consoleBench();
    console.log('');
    await (await import('./doctor.js')).doctorBench();
  }
}

async function throughputAndStartup(objDir: string, genBin: string): Promise<void> {
  const peak = await flow(objDir, genBin, 0, 5);
  report('peak (unpaced, 5 s)', peak);
  const sustained = await flow(objDir, genBin, 200_000, 10);
  report('sustained 200,000/s for 10 s', sustained);
  await startTimes(50);
  // The decoder alone, on records in memory (bench/decode.ts).
  process.stdout.write(execFileSync(process.execPath, [join(repoRoot, 'dist/bench/decode.js')], { encoding: 'utf8' }));
  recordsBench();
}

/** Records shorter or longer than their struct, in a process of their own as decode.ts is (bench/records.ts). */
function recordsBench(): void {
  process.stdout.write(execFileSync(process.execPath, [join(repoRoot, 'dist/bench/records.js')], { encoding: 'utf8' }));
}

await main();
