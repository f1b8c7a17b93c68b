/**
 * The trackers' metric families as a pipeline sink: each event updates the families its
 * tracker declares (TrackerDescriptor.metrics), after container enrichment, so series carry
 * container and pod. The families live in the agent's registry; a scrape reads them.
 */
import type { Registry } from 'prom-client';
import { collected } from './collected.js';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { TrackerDescriptor } from '../trackers/types.js';
import { Family, type EventContext } from './family.js';
import type { TrackerMetrics } from './types.js';

export interface ExporterOptions {
  /** Series per family (default 10,000). */
  maxSeries?: number;
  /** Series not updated for this long are dropped (default one hour). */
  seriesTtlMs?: number;
}

interface Counted {
  metrics: TrackerMetrics;
  families: Family[];
}

export class MetricsExporter implements Sink {
  readonly name = 'metrics';
  private readonly byTracker = new Map<string, Counted>();
  private readonly families: Family[] = [];
  private lastTracker: string | undefined;
  private last: Counted | undefined;
  /** The event being counted, read by every family (so the event's fields are read once). */
  private readonly ev: EventContext = { data: {}, cid: '', comm: '' };
  private written = 0;
  /** Coarse clock for series TTLs: one Date.now() per second, not per event. */
  private readonly clock = { now: Date.now() };
  private readonly tick: NodeJS.Timeout;

  constructor(
    private readonly registry: Registry,
    trackers: readonly TrackerDescriptor[],
    private readonly opts: ExporterOptions = {},
  ) {
    this.tick = setInterval(() => (this.clock.now = Date.now()), 1000).unref();
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
    if (!t.metrics || this.byTracker.has(t.name)) return;
    const list: Family[] = [];
    for (const spec of t.metrics.families) {
      let f = this.families.find((x) => x.name === spec.name);
      if (!f) {
        f = new Family(spec, { maxSeries: this.opts.maxSeries ?? 10_000, ttlMs: this.opts.seriesTtlMs ?? 3_600_000, clock: this.clock }, this.ev);
        this.families.push(f);
        this.registry.registerMetric(f as never);
      }
      list.push(f);
    }
    this.byTracker.set(t.name, { metrics: t.metrics, families: list });
    this.lastTracker = undefined;
  }

  write(ev: TrackerEvent): void {
    this.written++;
    // Events come in runs from one tracker (a ring buffer's batch): skip the lookup then.
    if (ev.tracker !== this.lastTracker) {
      this.lastTracker = ev.tracker;
      this.last = this.byTracker.get(ev.tracker);
    }
    const t = this.last;
    if (t === undefined) return;
    const d = ev.data;
    const c = d.container as { id?: unknown } | undefined;
    const e = this.ev;
    e.data = d;
    e.cid = c !== undefined && c !== null && typeof c.id === 'string' ? c.id : '';
    e.comm = typeof d.comm === 'string' ? d.comm : '';
    t.metrics.update(d, t.families);
  }

  /** Every event is counted in memory: none is ever dropped here. */
  stats(): { written: number; dropped: number } {
    return { written: this.written, dropped: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.tick);
  }
}
