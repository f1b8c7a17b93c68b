/**
 * One tracker metric family: its series found through nested Maps (container id, comm, own
 * labels), each with its sample line's text made once and kept in an arena. Events count into
 * it through targets (target.ts), which keep their place in those Maps; a scrape copies the
 * texts' bytes (render). Bounded: past `maxSeries`, label sets fold into one overflow series
 * (counted), and series not updated for `ttlMs` are dropped when scraped.
 *
 * It is a prom-client metric too (`get()`, for the registry's JSON and the OTLP bridge); the
 * /metrics server asks it for its text directly (exposition.ts), which is much faster.
 */
import type { Label, MetricSpec } from './types.js';
import { numText } from './num-text.js';
import { Target } from './target.js';
import { TextWriter } from './text-writer.js';

/** Container labels, then comm, then the family's own. */
export const CONTAINER_LABELS = ['container', 'container_id', 'image', 'pod', 'namespace'] as const;
export const OVERFLOW = '__overflow__';

export interface Series {
  /**
   * Its line text up to the value, in the family's arena from `at`: `name{a="x",b="y"} `
   * (`len` bytes). Histograms: `name_bucket{a="x",le="` (the bound follows), then
   * `name_sum{…} ` (`sumLen`) and `name_count{…} ` (`countLen`) right after it.
   */
  at: number;
  len: number;
  sumLen: number;
  countLen: number;
  labels: Record<string, string>;
  /** Counter: the total. Histogram: the sum of observations. */
  value: number;
  /** Histogram: per-bucket counts (not cumulative), the last one +Inf. */
  counts?: Float64Array;
  /** Coarse time of the last update (ms). */
  seen: number;
  /** Its keys in `index`, one per level. */
  keys?: Label[];
  /** The overflow series (label sets past the limit). */
  overflow?: true;
}

export type Level = Map<Label, Level | Series>;

/** What the events of one tracker, container and comm share: the labels they get, the first two index levels. */
export interface Context {
  /** The enrichment's `container` and `k8s` fields (shared per container). */
  container: unknown;
  k8s: unknown;
  /** Container id ('' for none) and comm: the first two index levels. */
  cid: string;
  comm: string;
}

export interface FamilyOptions {
  maxSeries: number;
  ttlMs: number;
  /**
   * Coarse clock in whole seconds, ticked by the exporter so that an update does not read the
   * time. A small integer, which V8 keeps in the series' field as is (a fractional or large
   * number there would be a separate heap object, one more memory access per update).
   */
  clock: { now: number };
  /** Called before the series are read (a scrape): the exporter adds what its targets hold back. */
  flush?: () => void;
  /** Called when the family rebuilt its index: what its targets keep (nodes, series) is stale. */
  reindexed?: () => void;
}

function escapeValue(v: string): string {
  return /[\\"\n]/.test(v) ? v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : v;
}

function labelText(labels: Record<string, string>): string {
  let out = '';
  for (const k in labels) {
    const v = labels[k]!;
    if (v === '') continue;
    out += `${out ? ',' : ''}${k}="${escapeValue(v)}"`;
  }
  return out;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export class Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly labelNames: readonly string[];
  /** prom-client: how to merge across cluster workers (unused here, required by the interface). */
  readonly aggregator = 'sum';
  /** Every series (for scrapes and expiry). */
  private readonly series = new Set<Series>();
  /** The same series in nested Maps, for the hot path (seriesFor). */
  private index: Level = new Map();
  /** Levels of `index`: container, comm (if labelled), own labels. */
  private readonly depth: number;
  /** Own labels (0–4). */
  private readonly own: number;
  readonly clock: { now: number };
  /** The series' line texts, one after another, so that a scrape reads them in order. */
  private arena = new TextWriter(4096);
  /** Bytes in `arena` of series dropped since it was made: past half, it is compacted. */
  private dead = 0;
  /** `0.1"} ` … `+Inf"} `, what follows a bucket line's head: bucket i's at `leAt[i]`, `leAt[i + 1] - leAt[i]` bytes. */
  private readonly les: Buffer;
  private readonly leAt: number[] = [0];
  private readonly bounds: readonly number[];
  private readonly comm: boolean;
  private overflow?: Series;
  /** Updates folded into the overflow series. */
  folded = 0;
  constructor(
    readonly spec: MetricSpec,
    private readonly opts: FamilyOptions,
  ) {
    this.name = spec.name;
    this.help = spec.help;
    this.type = spec.type;
    this.comm = spec.comm ?? true;
    this.labelNames = [...CONTAINER_LABELS, ...(this.comm ? ['comm'] : []), ...spec.labels];
    this.bounds = spec.buckets ?? [];
    this.own = spec.labels.length;
    this.depth = 1 + (this.comm ? 1 : 0) + this.own;
    const les = [...this.bounds.map(numText), '+Inf'].map((le) => Buffer.from(`${le}"} `));
    for (const le of les) this.leAt.push(this.leAt[this.leAt.length - 1]! + le.length);
    this.les = Buffer.concat(les);
    this.clock = opts.clock;
  }

  /** How the events of one tracker, container and comm count into this family. */
  target(ctx: Context): Target {
    return new Target(this, ctx);
  }

  /** The first bucket whose bound is ≥ v (the last one is +Inf). */
  bucketOf(v: number): number {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    return i;
  }

  /** The level `i` key of the current event's series: container id, comm (if labelled), own labels. */
  private keyAt(i: number, cid: string, comm: string, l1?: Label, l2?: Label, l3?: Label, l4?: Label): Label {
    if (i === 0) return cid;
    if (this.comm) {
      if (i === 1) return comm;
      i--;
    }
    return (i === 1 ? l1 : i === 2 ? l2 : i === 3 ? l3 : l4) ?? '';
  }

  /** The node below the context's container (and comm) levels, if the index has it (never made here). */
  base(ctx: Context): Level | Series | undefined {
    const node = this.index.get(ctx.cid);
    return node !== undefined && this.comm ? (node as Level).get(ctx.comm) : node;
  }

  /**
   * The series with these own label values below `base` (the context's node, if it has one):
   * found one Map level per label, made if missing, or the overflow series past the limit.
   */
  seriesUnder(base: Level | Series | undefined, ctx: Context, l1?: Label, l2?: Label, l3?: Label, l4?: Label): Series {
    let node = base;
    const own = this.own;
    if (node !== undefined && own > 0) {
      node = (node as Level).get(l1 ?? '');
      if (node !== undefined && own > 1) {
        node = (node as Level).get(l2 ?? '');
        if (node !== undefined && own > 2) {
          node = (node as Level).get(l3 ?? '');
          if (node !== undefined && own > 3) node = (node as Level).get(l4 ?? '');
        }
      }
    }
    return node === undefined ? this.create(ctx, l1, l2, l3, l4) : (node as Series);
  }

  /** A label set not seen yet: a new series, or the overflow one past the limit. */
  private create(ctx: Context, l1?: Label, l2?: Label, l3?: Label, l4?: Label): Series {
    if (this.series.size >= this.opts.maxSeries) {
      this.folded++;
      const o = (this.overflow ??= { ...this.newSeries(Object.fromEntries(this.labelNames.map((n) => [n, OVERFLOW]))), overflow: true });
      o.seen = this.clock.now;
      return o;
    }
    const comm = this.comm ? ctx.comm : '';
    const keys: Label[] = [];
    for (let i = 0; i < this.depth; i++) keys.push(this.keyAt(i, ctx.cid, comm, l1, l2, l3, l4));
    const s = this.newSeries(this.labelsOf(ctx, [l1, l2, l3, l4]));
    s.keys = keys;
    this.series.add(s);
    this.indexSeries(s);
    return s;
  }

  private indexSeries(s: Series): void {
    let node = this.index;
    const keys = s.keys!;
    for (let i = 0; i < keys.length - 1; i++) {
      let next = node.get(keys[i]!) as Level | undefined;
      if (next === undefined) node.set(keys[i]!, (next = new Map()));
      node = next;
    }
    node.set(keys[keys.length - 1]!, s);
  }

  private labelsOf(ctx: Context, own: (Label | undefined)[]): Record<string, string> {
    const c = (ctx.container && typeof ctx.container === 'object' ? ctx.container : {}) as Record<string, unknown>;
    const k = (ctx.k8s && typeof ctx.k8s === 'object' ? ctx.k8s : {}) as Record<string, unknown>;
    // Host processes have no container labels (enrichment names them "host"): `container!=""` selects containers.
    const host = c.id === 'host';
    const labels: Record<string, string> = {
      container: host ? '' : str(c.name),
      // The short id, as `docker ps` and `crictl ps` show it: 52 bytes less on every sample line.
      container_id: host ? '' : str(c.id),
      image: str(c.image),
      pod: str(k.pod),
      namespace: str(k.namespace),
    };
    if (this.comm) labels.comm = ctx.comm;
    this.spec.labels.forEach((n, i) => (labels[n] = String(own[i] ?? '')));
    return labels;
  }

  private newSeries(labels: Record<string, string>): Series {
    const lt = labelText(labels);
    const braces = lt ? `{${lt}} ` : ' ';
    const a = this.arena;
    const at = a.length;
    if (this.type !== 'histogram') return { at, len: a.text(`${this.name}${braces}`), sumLen: 0, countLen: 0, labels, value: 0, seen: this.clock.now };
    return {
      at,
      len: a.text(`${this.name}_bucket{${lt ? `${lt},` : ''}le="`),
      sumLen: a.text(`${this.name}_sum${braces}`),
      countLen: a.text(`${this.name}_count${braces}`),
      labels,
      value: 0,
      seen: this.clock.now,
      counts: new Float64Array(this.bounds.length + 1),
    };
  }

  /** Drops series not updated within the TTL (and rebuilds the index if any went). */
  private expire(): void {
    const old = this.clock.now - this.opts.ttlMs / 1000;
    const before = this.series.size;
    for (const s of this.series) {
      if (s.seen >= old) continue;
      this.series.delete(s);
      this.dead += s.len + s.sumLen + s.countLen;
    }
    if (this.series.size === before) return;
    if (this.dead > this.arena.length / 2) this.compact();
    this.reindex();
  }

  /** A new arena with the live series' texts only. */
  private compact(): void {
    const old = this.arena.result();
    const next = new TextWriter(Math.max(4096, old.length - this.dead));
    const live = [...this.series];
    if (this.overflow) live.push(this.overflow);
    for (const s of live) {
      const at = next.length;
      next.bytes(old, s.at, s.len + s.sumLen + s.countLen);
      s.at = at;
    }
    this.arena = next;
    this.dead = 0;
  }

  private reindex(): void {
    this.index = new Map();
    for (const s of this.series) this.indexSeries(s);
    this.opts.reindexed?.();
  }

  get size(): number {
    return this.series.size;
  }

  private all(): Series[] {
    this.opts.flush?.();
    this.expire();
    const out = [...this.series];
    if (this.overflow) out.push(this.overflow);
    return out;
  }

  /** Writes the family in the Prometheus text format (HELP, TYPE, samples); nothing when it has no series. */
  render(w: TextWriter): void {
    const all = this.all();
    if (all.length === 0) return;
    w.text(`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${this.type}\n`);
    const text = this.arena.result();
    const les = this.les;
    const leAt = this.leAt;
    for (const s of all) {
      const counts = s.counts;
      if (counts === undefined) {
        w.bytes(text, s.at, s.len);
        w.value(s.value);
        continue;
      }
      let cum = 0;
      for (let i = 0; i < counts.length; i++) {
        cum += counts[i]!;
        w.bytes(text, s.at, s.len);
        w.bytes(les, leAt[i]!, leAt[i + 1]! - leAt[i]!);
        w.value(cum);
      }
      w.bytes(text, s.at + s.len, s.sumLen);
      w.value(s.value);
      w.bytes(text, s.at + s.len + s.sumLen, s.countLen);
      w.value(cum);
    }
  }

  /** The family as text ('' when it has no series). */
  text(): string {
    const w = new TextWriter();
    this.render(w);
    return w.result().toString('utf8');
  }

  /** prom-client's form (the registry's JSON, the OTLP bridge). */
  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName?: string }[] } {
    const values: { labels: Record<string, string | number>; value: number; metricName?: string }[] = [];
    for (const s of this.all()) {
      if (!s.counts) {
        values.push({ labels: { ...s.labels }, value: s.value });
        continue;
      }
      let cum = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cum += s.counts[i]!;
        values.push({ labels: { ...s.labels, le: i < this.bounds.length ? this.bounds[i]! : '+Inf' }, value: cum, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels }, value: s.value, metricName: `${this.name}_sum` }, { labels: { ...s.labels }, value: cum, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** prom-client calls it on registry.resetMetrics(). */
  reset(): void {
    this.series.clear();
    this.overflow = undefined;
    this.arena = new TextWriter(4096);
    this.dead = 0;
    this.reindex();
    this.folded = 0;
  }
}
