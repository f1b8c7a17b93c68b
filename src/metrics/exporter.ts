/**
 * The trackers' metric families as a pipeline sink: each event updates the families its
 * tracker declares (TrackerDescriptor.metrics), after container enrichment, so series carry
 * container and pod. The families live in the agent's registry; a scrape reads them.
 */
import { Gauge, Counter, type Registry } from 'prom-client';
import type { Sink, TrackerEvent } from '../pipeline/types.js';
import type { TrackerDescriptor } from '../trackers/types.js';
import { Family } from './family.js';

export interface ExporterOptions {
  /** Series per family (default 10,000). */
  maxSeries?: number;
  /** Series not updated for this long are dropped (default one hour). */
  seriesTtlMs?: number;
}

export class MetricsExporter implements Sink {
  readonly name = 'metrics';
  private readonly byTracker = new Map<string, Family[]>();
  private readonly families: Family[] = [];
  private lastTracker: string | undefined;
  private last: Family[] | undefined;
  private written = 0;
  /** Coarse clock for series TTLs: one Date.now() per second, not per event. */
  private now = Date.now();
  private readonly tick: NodeJS.Timeout;

  constructor(
    private readonly registry: Registry,
    trackers: readonly TrackerDescriptor[],
    private readonly opts: ExporterOptions = {},
  ) {
    this.tick = setInterval(() => (this.now = Date.now()), 1000).unref();
    for (const t of trackers) this.addTracker(t);
    const families = this.families;
    new Gauge({
      name: 'eunomia_metrics_series',
      help: 'Series held per tracker metric family.',
      labelNames: ['family'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const f of families) this.set({ family: f.name }, f.size);
      },
    });
    new Counter({
      name: 'eunomia_metrics_series_folded_total',
      help: 'Updates folded into a family\'s overflow series because the family had metrics.max_series series.',
      labelNames: ['family'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const f of families) this.inc({ family: f.name }, f.folded);
      },
    });
  }

  /** Registers a tracker's families (a family two trackers share is registered once). */
  addTracker(t: TrackerDescriptor): void {
    if (!t.metrics?.length || this.byTracker.has(t.name)) return;
    const list: Family[] = [];
    for (const spec of t.metrics) {
      let f = this.families.find((x) => x.name === spec.name);
      if (!f) {
        f = new Family(spec, { maxSeries: this.opts.maxSeries ?? 10_000, ttlMs: this.opts.seriesTtlMs ?? 3_600_000, now: () => this.now });
        this.families.push(f);
        this.registry.registerMetric(f as never);
      }
      list.push(f);
    }
    this.byTracker.set(t.name, list);
    this.lastTracker = undefined;
  }

  write(ev: TrackerEvent): void {
    this.written++;
    // Events come in runs from one tracker (a ring buffer's batch): skip the lookup then.
    if (ev.tracker !== this.lastTracker) {
      this.lastTracker = ev.tracker;
      this.last = this.byTracker.get(ev.tracker);
    }
    const fams = this.last;
    if (fams === undefined) return;
    for (let i = 0; i < fams.length; i++) fams[i]!.update(ev.data);
  }

  /** Every event is counted in memory: none is ever dropped here. */
  stats(): { written: number; dropped: number } {
    return { written: this.written, dropped: 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.tick);
  }
}
