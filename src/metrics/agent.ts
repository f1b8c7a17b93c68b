/**
 * The agent's own metrics: events received and dropped per tracker and stage, decode errors,
 * the CPU time of each tracker's eBPF programs, pipeline drops, trackers running, build info.
 * Read from the parts' own counters at scrape time. Counters must never go down, so the
 * counts of stopped instances are kept (TrackerTotals) and added to the running ones'.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ProgramStats, TrackerStats } from '../core/tracker.js';
import type { PipelineStats } from '../pipeline/pipeline.js';

export interface InstanceCounts {
  name: string;
  stats: TrackerStats;
  programs: ProgramStats[];
}

/** What stopped instances counted, per tracker name (and program). */
export class TrackerTotals {
  private readonly stats = new Map<string, TrackerStats>();
  private readonly programs = new Map<string, Map<string, { runs: number; ns: number }>>();

  retire(i: InstanceCounts): void {
    const s = this.stats.get(i.name) ?? { events: 0, decodeErrors: 0, lostKernel: 0, lostQueue: 0 };
    s.events += i.stats.events;
    s.decodeErrors += i.stats.decodeErrors;
    s.lostKernel += i.stats.lostKernel;
    s.lostQueue += i.stats.lostQueue;
    this.stats.set(i.name, s);
    const progs = this.programs.get(i.name) ?? new Map<string, { runs: number; ns: number }>();
    for (const p of i.programs) {
      const t = progs.get(p.program) ?? { runs: 0, ns: 0 };
      t.runs += p.runCount;
      t.ns += p.runTimeNs;
      progs.set(p.program, t);
    }
    this.programs.set(i.name, progs);
  }

  /** Stopped plus running, per tracker. */
  trackers(live: InstanceCounts[]): Map<string, TrackerStats> {
    const out = new Map<string, TrackerStats>();
    for (const [name, s] of this.stats) out.set(name, { ...s });
    for (const i of live) {
      const s = out.get(i.name) ?? { events: 0, decodeErrors: 0, lostKernel: 0, lostQueue: 0 };
      s.events += i.stats.events;
      s.decodeErrors += i.stats.decodeErrors;
      s.lostKernel += i.stats.lostKernel;
      s.lostQueue += i.stats.lostQueue;
      out.set(i.name, s);
    }
    return out;
  }

  /** Stopped plus running, per tracker and program. */
  programTotals(live: InstanceCounts[]): Map<string, Map<string, { runs: number; ns: number }>> {
    const out = new Map<string, Map<string, { runs: number; ns: number }>>();
    const add = (tracker: string, program: string, runs: number, ns: number): void => {
      let m = out.get(tracker);
      if (!m) out.set(tracker, (m = new Map()));
      const t = m.get(program) ?? { runs: 0, ns: 0 };
      t.runs += runs;
      t.ns += ns;
      m.set(program, t);
    };
    for (const [tracker, progs] of this.programs) for (const [p, t] of progs) add(tracker, p, t.runs, t.ns);
    for (const i of live) for (const p of i.programs) add(i.name, p.program, p.runCount, p.runTimeNs);
    return out;
  }
}

export interface AgentMetricsSource {
  instances(): InstanceCounts[];
  totals: TrackerTotals;
  pipeline(): PipelineStats;
  /** Whether the kernel counts BPF run time (the program families are left out otherwise). */
  bpfStats: boolean;
  build: { version: string; node: string; libbpf: string };
}

type C = Counter<string>;

/** A counter refilled from totals at each scrape (prom-client's `collect`). */
function counter(registry: Registry, name: string, help: string, labelNames: string[], fill: (c: C) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}

export function registerAgentMetrics(registry: Registry, src: AgentMetricsSource): void {
  // One reading of the instances per scrape, shared by the families below.
  let cache: { at: number; live: InstanceCounts[] } | undefined;
  const live = (): InstanceCounts[] => {
    const now = Date.now();
    if (!cache || now - cache.at > 100) cache = { at: now, live: src.instances() };
    return cache.live;
  };
  const perTracker = (f: (s: TrackerStats) => number) => (c: C) => {
    for (const [tracker, s] of src.totals.trackers(live())) c.inc({ tracker }, f(s));
  };
  counter(registry, 'eunomia_events_total', 'Events decoded from the kernel, by tracker.', ['tracker'], perTracker((s) => s.events));
  counter(registry, 'eunomia_decode_errors_total', 'Records that could not be decoded, by tracker.', ['tracker'], perTracker((s) => s.decodeErrors));
  counter(registry, 'eunomia_events_dropped_total', 'Events lost before decoding, by tracker and stage (kernel: the ring buffer was full; queue: the reader\'s queue to JavaScript was full).', ['tracker', 'stage'], (c) => {
    for (const [tracker, s] of src.totals.trackers(live())) {
      c.inc({ tracker, stage: 'kernel' }, s.lostKernel);
      c.inc({ tracker, stage: 'queue' }, s.lostQueue);
    }
  });
  counter(registry, 'eunomia_pipeline_dropped_total', 'Events a pipeline stage dropped (a handler error, a sink error, a full output), by stage.', ['stage'], (c) => {
    const p = src.pipeline();
    for (const h of p.handlers) c.inc({ stage: h.name }, h.errors);
    for (const s of p.sinks) c.inc({ stage: s.name }, s.dropped + s.errors);
    c.inc({ stage: 'closed' }, p.droppedClosed);
  });
  if (src.bpfStats) {
    const perProgram = (f: (t: { runs: number; ns: number }) => number) => (c: C) => {
      for (const [tracker, progs] of src.totals.programTotals(live())) for (const [program, t] of progs) c.inc({ tracker, program }, f(t));
    };
    counter(registry, 'eunomia_bpf_program_run_seconds_total', 'CPU time spent in the tracker\'s eBPF programs (kernel BPF stats), by tracker and program.', ['tracker', 'program'], perProgram((t) => t.ns / 1e9));
    counter(registry, 'eunomia_bpf_program_runs_total', 'Runs of the tracker\'s eBPF programs, by tracker and program.', ['tracker', 'program'], perProgram((t) => t.runs));
  }
  new Gauge({
    name: 'eunomia_trackers_running',
    help: 'Tracker instances running, by tracker.',
    labelNames: ['tracker'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const i of live()) this.inc({ tracker: i.name });
    },
  });
  const info = new Gauge({ name: 'eunomia_build_info', help: 'Eunomia\'s version, Node.js and libbpf; always 1.', labelNames: ['version', 'node', 'libbpf'] as const, registers: [registry] });
  info.set(src.build, 1);
}
