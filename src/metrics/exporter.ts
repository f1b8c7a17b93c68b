/**
 * The trackers' metric families as a pipeline sink: each event updates the families its
 * tracker declares (TrackerDescriptor.metrics), after container enrichment, so series carry
 * container and pod. The families live in the agent's registry; a scrape reads them.
 *
 * Per event, the work is finding the series. For recent (tracker, container, comm) triples,
 * kept in a direct-mapped table, the exporter keeps each family's Target (target.ts): its
 * node for that container and comm and its last series. Most events then need no Map lookup.
 */
import type { Registry } from 'prom-client';
import { collected } from './collected.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { TrackerDescriptor } from '../runtime/types.js';
import { Family, type Context } from './family.js';
import type { Target } from './target.js';
import type { TrackerMetrics } from './types.js';

export interface ExporterOptions {
  /** Series per family (default 10,000). */
  maxSeries?: number;
  /** Series not updated for this long are dropped (default one hour). */
  seriesTtlMs?: number;
  /** Also each tracker's `originalMetrics`: the original Eunomia's families (metrics.original_names). */
  originalNames?: boolean;
}

/** A tracker's families, then the original's: one update calls both (the original's read the last targets). */
function withOriginal(own: TrackerMetrics | undefined, original: TrackerMetrics): TrackerMetrics {
  if (!own) return original;
  return {
    families: [...own.families, ...original.families],
    update(d, f) {
      own.update(d, f);
      original.update(d, f);
    },
  };
}

interface Counted {
  metrics: TrackerMetrics;
  families: Family[];
}

/** A recent (tracker, container, comm): the tracker's metrics, and its families as those events count into them. */
interface Recent extends Context {
  tracker: string;
  metrics: TrackerMetrics | undefined;
  targets: Target[];
}

/** Slots in the table of recent (tracker, container, comm) triples (a power of two). */
const RECENT = 4096;

export class MetricsExporter implements Sink {
  readonly name = 'metrics';
  private readonly byTracker = new Map<string, Counted>();
  private readonly families: Family[] = [];
  private recent: (Recent | undefined)[] = new Array(RECENT).fill(undefined);
  /** The entry of the last event: events come in runs from one tracker (a ring buffer's batch), often from one process. */
  private last: Recent | undefined;
  /** Targets may hold increments back (an event came since the last flush). */
  private held = false;
  private written = 0;
  /** Coarse clock for series TTLs, in seconds since the exporter started: one Date.now() per second, not per event. */
  private readonly clock = { now: 0 };
  private readonly started = Date.now();
  private readonly tick: NodeJS.Timeout;

  constructor(
    private readonly registry: Registry,
    trackers: readonly TrackerDescriptor[],
    private readonly opts: ExporterOptions = {},
  ) {
    this.tick = setInterval(() => (this.clock.now = Math.floor((Date.now() - this.started) / 1000)), 1000).unref();
    for (const t of trackers) this.addTracker(t);
    const families = this.families;
    collected(registry, 'gauge', 'eunomia_metrics_series', 'Series held per tracker metric family.', ['family'], (put) => {
      for (const f of families) put({ family: f.name }, f.size);
    });
    collected(registry, 'counter', 'eunomia_metrics_series_folded_total', "Updates folded into a family's overflow series because the family had metrics.max_series series.", ['family'], (put) => {
      for (const f of families) put({ family: f.name }, f.folded);
    });
  }

  /** Registers a tracker's families (a family two trackers share is registered once). */
  addTracker(t: TrackerDescriptor): void {
    const metrics = this.opts.originalNames && t.originalMetrics ? withOriginal(t.metrics, t.originalMetrics) : t.metrics;
    if (!metrics || this.byTracker.has(t.name)) return;
    const list: Family[] = [];
    for (const spec of metrics.families) {
      let f = this.families.find((x) => x.name === spec.name);
      if (!f) {
        const opts = { maxSeries: this.opts.maxSeries ?? 10_000, ttlMs: this.opts.seriesTtlMs ?? 3_600_000, clock: this.clock, flush: this.flush, reindexed: this.forget };
        f = new Family(spec, opts);
        this.families.push(f);
        this.registry.registerMetric(f as never);
      }
      list.push(f);
    }
    this.byTracker.set(t.name, { metrics, families: list });
    // Recent entries of this tracker, made before it was known, have no targets.
    this.forget();
  }

  write(ev: TrackerEvent): void {
    this.written++;
    const d = ev.data;
    const tracker = ev.tracker;
    const container = d.container;
    const comm = typeof d.comm === 'string' ? d.comm : '';
    this.held = true;
    let r = this.last;
    if (r !== undefined && r.container === container && r.comm === comm && r.tracker === tracker) {
      if (r.metrics !== undefined) r.metrics.update(d, r.targets);
      return;
    }
    // The slot: from the cgroup id (which tells containers apart) and a few of comm's
    // characters. An entry is used only if tracker, container and comm are the same.
    const cg = d.cgroup_id;
    const n = comm.length;
    let h = (typeof cg === 'number' ? cg | 0 : 0) ^ (tracker.length << 8) ^ n;
    if (n > 0) h = h * 31 + comm.charCodeAt(0) * 961 + comm.charCodeAt(n >> 1) * 31 + comm.charCodeAt(n - 1);
    const slot = (h ^ (h >>> 12)) & (RECENT - 1);
    r = this.recent[slot];
    if (r === undefined || r.container !== container || r.comm !== comm || r.tracker !== tracker) r = this.remember(slot, tracker, d, comm);
    this.last = r;
    if (r.metrics !== undefined) r.metrics.update(d, r.targets);
  }

  private remember(slot: number, tracker: string, d: Record<string, unknown>, comm: string): Recent {
    const c = d.container as { id?: unknown } | undefined;
    const cid = c !== undefined && c !== null && typeof c.id === 'string' ? c.id : '';
    const old = this.recent[slot];
    if (old !== undefined) for (const target of old.targets) target.flush();
    const t = this.byTracker.get(tracker);
    const r: Recent = { container: c, k8s: d.k8s, cid, comm, tracker, metrics: t?.metrics, targets: [] };
    if (t !== undefined) for (const f of t.families) r.targets.push(f.target(r));
    this.recent[slot] = r;
    return r;
  }

  /** Drops the recent entries (flushed first): their targets' nodes and series are stale. */
  private readonly forget = (): void => {
    this.flush();
    this.recent = new Array(RECENT).fill(undefined);
    this.last = undefined;
  };

  /** Adds what the targets hold back to the series (before they are read). */
  readonly flush = (): void => {
    if (!this.held) return;
    this.held = false;
    for (const r of this.recent) if (r !== undefined) for (const target of r.targets) target.flush();
  };

  /** Every event is counted in memory: none is ever dropped here. */
  stats(): { written: number; dropped: number } {
    return { written: this.written, dropped: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.tick);
  }
}
