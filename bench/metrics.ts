/**
 * The Prometheus exporter: scrape time and size of /metrics with 1,000 containers' worth of
 * series (synthetic events), and what the exporter costs per event on the path of
 * `eunomia server` (record decoded from its BTF struct → container enrichment → sinks).
 */
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import type { NativeBinding } from '../src/core/native.js';
import { enrichHandler, type Containers } from '../src/containers/index.js';
import { createRegistry, expositionBody, MetricsExporter, startMetricsServer } from '../src/metrics/index.js';
import type { Sink, TrackerEvent } from '../src/pipeline/types.js';
import { trackers } from '../src/trackers/registry.js';
import { Analyzer } from '../src/analyzer/analyzer.js';
import { loadRules } from '../src/rules/index.js';
import { scanCgroupIds, throughput, workload } from './rules.js';
import { dockerReady, run, withContainers } from './docker-host.js';


/** A throughput ratio (without / with) as the share of throughput lost, in %. */
const pct = (slower: number): string => ((1 - 1 / slower) * 100).toFixed(1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A busy host's worth of series: 1,000 containers, 5 programs each, the default trackers' families plus the latency histogram. */
function fill(ex: MetricsExporter, containers: number): number {
  const comms = ['nginx', 'python3', 'sh', 'node', 'java'];
  let events = 0;
  const push = (tracker: string, data: Record<string, unknown>): void => {
    ex.write({ tracker, instance: 1, time: 0, data });
    events++;
  };
  for (let c = 0; c < containers; c++) {
    const id = c.toString(16).padEnd(64, 'a');
    const container = { id: id.slice(0, 12), full_id: id, name: `app-${c}`, image: `registry.local/team/app-${c % 50}:1.${c % 7}` };
    const k8s = { pod: `app-${c}-7d9f8b6c4-x2x9z`, namespace: `ns-${c % 20}` };
    const base = { container, k8s };
    for (const comm of comms) {
      push('process', { ...base, comm, type: 'exec' });
      push('process', { ...base, comm, type: 'exit', exit_code: 0, exit_signal: 0, duration_ns: 2.5e9 });
      push('files', { ...base, comm, type: 'regular', reads: 10, writes: 5, rbytes: 40960, wbytes: 20480 });
      for (const error of ['', 'ENOENT']) push('opensnoop', { ...base, comm, error });
      for (const direction of ['connect', 'accept']) push('tcpconnect', { ...base, comm, direction, family: 'ipv4', dport: 5432, result: '0' });
      push('tcpconnlat', { ...base, comm, family: 'ipv4', latency_ns: 350_000 });
    }
  }
  return events;
}

async function scrape(containers: number): Promise<void> {
  const registry = createRegistry();
  const ex = new MetricsExporter(registry, trackers);
  fill(ex, containers);
  const series = registry.getMetricsAsArray().reduce((n, m) => n + ((m as { size?: number }).size ?? 0), 0);
  const times: number[] = [];
  let body: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    body = await expositionBody(registry);
    times.push(performance.now() - t0);
  }
  const text = body.toString('utf8');
  const server = await startMetricsServer(registry, '127.0.0.1', 0);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  // Scraped by another process, as Prometheus does (curl: time to the last byte).
  const http: number[] = [];
  for (let i = 0; i < 10; i++) {
    const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{time_total}', url]);
    http.push(Number(stdout) * 1000);
  }
  server.close();
  await ex.close();
  const lines = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
  console.log(`/metrics with ${containers.toLocaleString('en-US')} containers' series (${series.toLocaleString('en-US')} series, ${lines.toLocaleString('en-US')} sample lines, ${(body.length / 1e6).toFixed(1)} MB):`);
  console.log(`  rendering: median ${median(times).toFixed(1)} ms, first ${times[0]!.toFixed(1)} ms; HTTP scrape by curl (to the last byte): median ${median(http).toFixed(1)} ms, max ${Math.max(...http).toFixed(1)} ms (target < 100 ms)`);
}

async function exporterCost(c: Containers): Promise<void> {
  const containerCgroups = [...c.resolver.containerCgroups().keys()];
  const hostCgroups = scanCgroupIds().filter((cg) => !containerCgroups.includes(cg)).slice(0, 8);
  const w = workload(containerCgroups, hostCgroups, 65536);
  const ex = new MetricsExporter(createRegistry(), trackers);
  // Many short pairs rather than a few long ones: this VM's speed drifts by ±10 % over seconds.
  const n = 200_000;
  const pairs = 21;
  // Two pipelines: enrichment alone (the cheapest, where the exporter weighs most), and
  // what `eunomia server` runs by default (enrichment, then the analyzer with the rules).
  const rules = loadRules([]);
  const pipelines: [string, () => Sink[]][] = [
    ['enrichment only', () => []],
    ['enrichment + analyzer with the built-in rules (eunomia server\'s default)', () => [new Analyzer({ rules }).sink()]],
  ];
  // Without it, a sink that does nothing takes its place: `eunomia server` always has
  // several sinks (streams, outputs), so fanning out is not the exporter's cost.
  const idle: Sink = { name: 'idle', write: () => {}, stats: () => ({ written: 0, dropped: 0 }), close: async () => {} };
  // Pairs of runs, alternating which goes first; the median of the pairs' ratios (the VM's
  // speed drifts by ±10 % between runs, much more than the difference measured).
  const results = pipelines.map(([label, base]) => {
    const run = (sink: Sink, events = n): number => throughput([enrichHandler(c.resolver)], w, events, [...base(), sink]);
    for (const sink of [idle, ex]) run(sink, n / 5);
    const ratios: number[] = [];
    const without: number[] = [];
    for (let r = 0; r < pairs; r++) {
      const [withIt, withoutIt] = r % 2 ? [run(ex), run(idle)] : [run(idle), run(ex)].reverse();
      without.push(1e9 / withoutIt!);
      ratios.push(withoutIt! / withIt!);
    }
    const q = [...ratios].sort((a, b) => a - b);
    return { label, without: median(without), slower: median(ratios), q1: q[Math.floor(pairs / 4)]!, q3: q[Math.floor((3 * pairs) / 4)]! };
  });
  // The sink alone, on the events decoded and enriched beforehand: less noisy than the
  // difference of two throughputs, which varies by ±10 % from run to run on this VM.
  const events: TrackerEvent[] = [];
  const keep: Sink = { name: 'keep', write: (ev) => void events.push(ev), stats: () => ({ written: events.length, dropped: 0 }), close: async () => {} };
  throughput([enrichHandler(c.resolver)], w, w.which.length, [keep]);
  let sinkNs = Infinity;
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let k = 0; k < 8; k++) for (let i = 0; i < events.length; i++) ex.write(events[i]!);
    sinkNs = Math.min(sinkNs, ((performance.now() - t0) * 1e6) / (8 * events.length));
  }
  await ex.close();
  console.log(`exporter: ${n / 1000}k process, opensnoop and tcpconnect records decoded → handlers → sinks, with and without the exporter; the exporter sink alone on those events, decoded beforehand (cache-cold: an upper bound): ${sinkNs.toFixed(0)} ns/event`);
  for (const r of results) {
    console.log(`  ${r.label}: ${r.without.toFixed(0)} ns/event without it (median); with it, ${pct(r.slower)} % less throughput (median of ${pairs} alternating pairs, quartiles ${pct(r.q1)}–${pct(r.q3)} %; target < 10 %), ${(r.without * (r.slower - 1)).toFixed(0)} ns per event`);
  }
}

export async function metricsBench(native: NativeBinding): Promise<void> {
  // The cost per event first: the scrape part feeds made-up events, which would leave the
  // exporter's code tuned to shapes the decoders never produce.
  if (await dockerReady('exporter cost')) await withContainers(native, 'metrics', 4, (c) => exporterCost(c));
  await scrape(1000);
}
