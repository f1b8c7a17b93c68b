/**
 * The agent's own metrics: events received and dropped per tracker and stage, decode errors,
 * the CPU time of each tracker's eBPF programs, pipeline drops, trackers running, build info.
 * Read from the parts' own counters at scrape time. Counters must never go down, so the
 * counts of stopped instances are kept (TrackerTotals) and added to the running ones'.
 */
import { Gauge, type Registry } from 'prom-client';
import type { TrackerManager } from '../runtime/manager.js';
import type { NativeBinding } from '../core/native.js';
import type { ProgramStats, TrackerStats } from '../runtime/tracker.js';
import { eunomiaVersion } from '../core/version.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import { collected, type Put } from './collected.js';

export interface InstanceCounts {
  name: string;
  stats: TrackerStats;
  programs: ProgramStats[];
}

export interface RunTotals {
  runs: number;
  ns: number;
}

type ProgramTotals = Map<string, Map<string, RunTotals>>;

/** Adds an instance's counts into per-tracker (and per-program) totals. */
function addInstance(stats: Map<string, TrackerStats>, programs: ProgramTotals, i: InstanceCounts): void {
  const s = stats.get(i.name) ?? { events: 0, decodeErrors: 0, lostKernel: 0, lostQueue: 0, mapInsertFailures: 0 };
  s.events += i.stats.events;
  s.decodeErrors += i.stats.decodeErrors;
  s.lostKernel += i.stats.lostKernel;
  s.lostQueue += i.stats.lostQueue;
  s.mapInsertFailures += i.stats.mapInsertFailures;
  stats.set(i.name, s);
  let progs = programs.get(i.name);
  if (!progs) programs.set(i.name, (progs = new Map()));
  for (const p of i.programs) {
    const t = progs.get(p.program) ?? { runs: 0, ns: 0 };
    t.runs += p.runCount;
    t.ns += p.runTimeNs;
    progs.set(p.program, t);
  }
}

/** What stopped instances counted, per tracker name (and program). */
export class TrackerTotals {
  private readonly stats = new Map<string, TrackerStats>();
  private readonly programs: ProgramTotals = new Map();

  retire(i: InstanceCounts): void {
    addInstance(this.stats, this.programs, i);
  }

  /** Stopped plus running, per tracker and per tracker and program. */
  withLive(live: InstanceCounts[]): { trackers: Map<string, TrackerStats>; programs: ProgramTotals } {
    const trackers = new Map([...this.stats].map(([name, s]) => [name, { ...s }]));
    const programs: ProgramTotals = new Map([...this.programs].map(([name, m]) => [name, new Map([...m].map(([p, t]) => [p, { ...t }]))]));
    for (const i of live) addInstance(trackers, programs, i);
    return { trackers, programs };
  }
}

export interface AgentMetricsSource {
  manager: TrackerManager;
  pipeline: Pipeline;
  native: NativeBinding;
  /** What stopped instances counted (the agent's); a fresh one when nothing is ever stopped. */
  totals?: TrackerTotals;
  /** Whether the kernel counts BPF run time (the program families are left out otherwise). */
  bpfStats: boolean;
}

export function registerAgentMetrics(registry: Registry, src: AgentMetricsSource): void {
  const totals = src.totals ?? new TrackerTotals();
  // One reading of the instances per scrape, shared by the families below.
  let cache: { at: number; live: InstanceCounts[]; sums: ReturnType<TrackerTotals['withLive']> } | undefined;
  const read = (): NonNullable<typeof cache> => {
    const now = Date.now();
    if (!cache || now - cache.at > 100) {
      const live = src.manager.instancesNow().map((i) => ({ name: i.name, stats: i.stats(), programs: i.programStats() }));
      cache = { at: now, live, sums: totals.withLive(live) };
    }
    return cache;
  };
  const counter = (name: string, help: string, labels: string[], fill: (put: Put) => void): void => collected(registry, 'counter', name, help, labels, fill);
  const perTracker = (f: (s: TrackerStats) => number) => (put: Put) => {
    for (const [tracker, s] of read().sums.trackers) put({ tracker }, f(s));
  };
  counter('eunomia_events_total', 'Events decoded from the kernel, by tracker.', ['tracker'], perTracker((s) => s.events));
  counter('eunomia_decode_errors_total', 'Records that could not be decoded, by tracker.', ['tracker'], perTracker((s) => s.decodeErrors));
  counter('eunomia_events_dropped_total', "Events lost before decoding, by tracker and stage (kernel: the ring buffer was full; queue: the reader's queue to JavaScript was full).", ['tracker', 'stage'], (put) => {
    for (const [tracker, s] of read().sums.trackers) {
      put({ tracker, stage: 'kernel' }, s.lostKernel);
      put({ tracker, stage: 'queue' }, s.lostQueue);
    }
  });
  // Not dropped events (the family above): the counts of in-kernel aggregation that fell short.
  counter('eunomia_map_insert_failures_total', "Operations a tracker's in-kernel aggregation map could not count, having no room for a new entry (the map was full, or the kernel had no memory at hand), by tracker.", ['tracker'], perTracker((s) => s.mapInsertFailures));
  counter('eunomia_pipeline_dropped_total', 'Events a pipeline stage dropped (a handler error, a sink error, a full output), by stage.', ['stage'], (put) => {
    const p = src.pipeline.stats();
    for (const h of p.handlers) put({ stage: h.name }, h.errors);
    for (const s of p.sinks) put({ stage: s.name }, s.dropped + s.errors);
    put({ stage: 'closed' }, p.droppedClosed);
  });
  if (src.bpfStats) {
    const perProgram = (f: (t: RunTotals) => number) => (put: Put) => {
      for (const [tracker, progs] of read().sums.programs) for (const [program, t] of progs) put({ tracker, program }, f(t));
    };
    counter('eunomia_bpf_program_run_seconds_total', "CPU time spent in the tracker's eBPF programs (kernel BPF stats), by tracker and program.", ['tracker', 'program'], perProgram((t) => t.ns / 1e9));
    counter('eunomia_bpf_program_runs_total', "Runs of the tracker's eBPF programs, by tracker and program.", ['tracker', 'program'], perProgram((t) => t.runs));
  }
  collected(registry, 'gauge', 'eunomia_trackers_running', 'Tracker instances running, by tracker.', ['tracker'], (put) => {
    const n = new Map<string, number>();
    for (const i of read().live) n.set(i.name, (n.get(i.name) ?? 0) + 1);
    for (const [tracker, count] of n) put({ tracker }, count);
  });
  const info = new Gauge({ name: 'eunomia_build_info', help: "Eunomia's version, Node.js and libbpf; always 1.", labelNames: ['version', 'node', 'libbpf'] as const, registers: [registry] });
  info.set({ version: eunomiaVersion(), node: process.version, libbpf: src.native.libbpfVersion() }, 1);
}
