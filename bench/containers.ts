/**
 * Container enrichment: what it costs per event, and how soon a new container's events leave
 * the pipeline with its name. Needs root and a Docker engine with the test image
 * (scripts/test-env.sh).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Btf, compileDecoder, encodeValue } from '../src/core/btf/index.js';
import { systemClock } from '../src/core/clock.js';
import { objectDir } from '../src/core/paths.js';
import { cgroup2Root, scanCgroups } from '../src/containers/cgroup.js';
import { jsonLine } from '../src/exporters/index.js';
import { opensnoopTracker } from '../src/trackers/opensnoop/index.js';
import { TrackerManager } from '../src/runtime/manager.js';
import type { NativeBinding } from '../src/core/native.js';
import { containerScopes, enrichHandler, type Containers } from '../src/containers/index.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import { countingSink } from '../src/pipeline/handlers.js';
import type { Handler, TrackerEvent } from '../src/pipeline/types.js';
import { processTracker } from '../src/trackers/process/index.js';
import { dockerReady, IMAGE, run, withContainers } from './docker-host.js';


/**
 * opensnoop records in memory, encoded from the shipped object's BTF, with cgroup ids of this
 * machine (host and containers): the path an event takes in `eunomia run` after the ring buffer.
 */
function records(cgroups: number[], n: number): { buf: Buffer; size: number; decode: (b: Buffer, off: number) => Record<string, unknown> } {
  const btf = Btf.fromElf(readFileSync(join(objectDir, opensnoopTracker.object)));
  const typeId = btf.find(opensnoopTracker.event!.struct, 'struct')!.id;
  const decoder = compileDecoder(btf, typeId);
  const size = decoder.size;
  const buf = Buffer.alloc(size * n);
  for (let i = 0; i < n; i++) {
    encodeValue(btf, typeId, { pid: 1000 + (i & 1023), tid: 1000 + (i & 1023), ppid: 1, cgroup_id: cgroups[i % cgroups.length], comm: 'nginx', path: '/etc/nginx/conf.d/default.conf', flags_raw: 0 }, buf, i * size, 'bench record');
  }
  const format = opensnoopTracker.format;
  return {
    buf,
    size,
    decode: (b, off) => {
      const d = decoder.decode(b, off);
      format?.(d);
      return d;
    },
  };
}

/** Events/s for decode → pipeline (handlers) → sink; with `json`, the sink renders JSON text as `run --fmt json` does. */
function throughput(handlers: Handler[], rec: ReturnType<typeof records>, n: number, json: boolean): number {
  let bytes = 0;
  const count = countingSink();
  const write = json ? (ev: TrackerEvent): void => ((bytes += jsonLine(ev).length), count.write(ev)) : (ev: TrackerEvent): void => ((bytes += 1), count.write(ev));
  const p = new Pipeline({ handlers, sinks: [{ ...count, write }] });
  const total = rec.buf.length / rec.size;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) p.push({ tracker: 'opensnoop', instance: 1, time: i, data: rec.decode(rec.buf, (i % total) * rec.size) });
  const s = (performance.now() - t0) / 1000;
  if (count.count !== n || bytes === 0) throw new Error(`bench: ${n - count.count} events did not reach the sink`);
  return n / s;
}

async function enrichmentCost(c: Containers): Promise<void> {
  const containerCgroups = [...c.resolver.containerCgroups().keys()];
  const hostCgroups = [...scanCgroupIds()].filter((cg) => !containerCgroups.includes(cg)).slice(0, 8);
  const rec = records([...hostCgroups, ...containerCgroups], 65536);
  const n = 500_000;
  console.log(`enrichment, on ${n / 1000}k opensnoop records decoded from memory, over ${containerCgroups.length} container and ${hostCgroups.length} host cgroups (best of 5):`);
  for (const json of [false, true]) {
    // Warm up both paths (JIT, caches), then alternate runs and take the best of each.
    throughput([], rec, n / 5, json);
    throughput([enrichHandler(c.resolver)], rec, n / 5, json);
    const without: number[] = [];
    const withE: number[] = [];
    for (let r = 0; r < 5; r++) {
      without.push(throughput([], rec, n, json));
      withE.push(throughput([enrichHandler(c.resolver)], rec, n, json));
    }
    const a = Math.max(...without);
    const b = Math.max(...withE);
    const what = json ? 'decode → pipeline → JSON text (also prints the added fields)' : 'decode → pipeline';
    console.log(`  ${what}: without ${(a / 1e6).toFixed(2)} M ev/s, with ${(b / 1e6).toFixed(2)} M ev/s: ${((1 - b / a) * 100).toFixed(1)} % (target < 10 %), ${(1e9 / b - 1e9 / a).toFixed(0)} ns per event`);
  }
}

function scanCgroupIds(): number[] {
  const root = cgroup2Root();
  return root ? [...scanCgroups(root).keys()] : [];
}

async function firstExecLatency(native: NativeBinding, c: Containers, runs: number): Promise<void> {
  const lat: number[] = [];
  let named = 0;
  let total = 0;
  const names = new Set<string>();
  const firstSeen = new Map<string, number>();
  const enrich = enrichHandler(c.resolver);
  const sink = {
    ...countingSink('latency'),
    write(ev: TrackerEvent) {
      const ct = ev.data.container as { name?: string; id?: string } | undefined;
      if (!ct || ct.id === 'host') return;
      total++;
      if (ct.name && names.has(ct.name)) named++;
      if (ev.data.type === 'exec' && ct.name && names.has(ct.name) && !firstSeen.has(ct.name)) {
        firstSeen.set(ct.name, Date.now());
        lat.push(Date.now() - ev.time); // kernel timestamp of the exec → leaving the pipeline
      }
    },
  };
  const pipeline = new Pipeline({ handlers: [enrich], sinks: [sink] });
  const m = new TrackerManager({ native, clock: systemClock(), emit: pipeline.push, scope: containerScopes(c.resolver) });
  const inst = m.start(processTracker, { containersOnly: true });
  for (let i = 0; i < runs; i++) {
    const name = `eunomia-bench-${process.pid}-${i}`;
    names.add(name);
    await run('docker', ['run', '--rm', '--name', name, IMAGE, 'true']);
  }
  const end = Date.now() + 5000;
  while (firstSeen.size < runs && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  await m.stop(inst.id);
  await pipeline.close();
  lat.sort((x, y) => x - y);
  const q = (p: number): number => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  console.log(`new containers (${runs} × docker run --rm true, started after Eunomia):`);
  console.log(`  first exec → event out of the pipeline with name: p50 ${q(0.5).toFixed(0)} ms, p95 ${q(0.95).toFixed(0)} ms, max ${q(1).toFixed(0)} ms (${lat.length}/${runs} containers seen)`);
  console.log(`  events from those containers carrying the name: ${named}/${total} (${total ? ((named / total) * 100).toFixed(1) : '-'} %; target 100 %); waited for metadata: ${enrich.stats().waited}`);
}

export async function containerBench(native: NativeBinding): Promise<void> {
  if (!(await dockerReady('containers'))) return;
  await withContainers(native, 'idle', 8, async (c) => {
    await enrichmentCost(c);
    await firstExecLatency(native, c, 30);
  });
}
