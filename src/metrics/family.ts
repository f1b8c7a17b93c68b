/**
 * One tracker metric family: its series in a Map keyed by label values, each with its label
 * text rendered once, so that an update is a key lookup and an add and a scrape is string
 * joins. Bounded: past `maxSeries`, label sets fold into one overflow series (counted), and
 * series not updated for `ttlMs` are dropped when scraped.
 *
 * It is a prom-client metric too (`get()`, for the registry's JSON and the OTLP bridge); the
 * /metrics server asks it for its text directly (exposition.ts), which is much faster.
 */
import type { MetricSpec } from './types.js';

/** Container labels, then comm, then the family's own. */
export const CONTAINER_LABELS = ['container', 'container_id', 'image', 'pod', 'namespace'] as const;
export const OVERFLOW = '__overflow__';

interface Series {
  /** `a="x",b="y"` (empty values left out: Prometheus treats them as absent). */
  text: string;
  labels: Record<string, string>;
  /** Counter: the total. Histogram: the sum of observations. */
  value: number;
  /** Histogram: per-bucket counts (not cumulative), the last one +Inf. */
  counts?: Float64Array;
  /** Coarse time of the last update (ms). */
  seen: number;
}

export interface FamilyOptions {
  maxSeries: number;
  ttlMs: number;
  /** Coarse clock (ms); the exporter ticks it, so an update does not read the time. */
  now: () => number;
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

/** Prometheus text for a number: integers plainly, +Inf/-Inf/NaN by name. */
export function numText(v: number): string {
  if (Number.isFinite(v)) return String(v);
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export class Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly labelNames: readonly string[];
  /** prom-client: how to merge across cluster workers (unused here, required by the interface). */
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  private readonly bounds: readonly number[];
  private readonly comm: boolean;
  private overflow?: Series;
  /** Updates folded into the overflow series. */
  folded = 0;
  /** The event being counted: set by the exporter before `spec.update`. */
  private cur: Record<string, unknown> = {};
  /** Bound once: what the spec's update calls. */
  readonly add: (value: number, l1?: string, l2?: string, l3?: string, l4?: string) => void;

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
    this.add = (value, l1, l2, l3, l4) => this.addTo(value, l1, l2, l3, l4);
  }

  /** Counts one event (the exporter's hot path). */
  update(data: Record<string, unknown>): void {
    this.cur = data;
    if (this.spec.updateCounts) this.putCounts(data, this.spec.updateCounts);
    else this.spec.update(data, this.add);
  }

  private putCounts(data: Record<string, unknown>, fn: NonNullable<MetricSpec['updateCounts']>): void {
    const s = this.seriesFor();
    const counts = s.counts;
    if (!counts) return;
    const b = this.bounds;
    s.value += fn(data, (upper, count) => {
      let i = 0;
      while (i < b.length && upper > b[i]!) i++;
      counts[i]! += count;
    });
  }

  private addTo(value: number, l1?: string, l2?: string, l3?: string, l4?: string): void {
    if (!(value === value)) return; // NaN: nothing to count
    const s = this.seriesFor(l1, l2, l3, l4);
    s.value += value;
    if (s.counts === undefined) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > b[i]!) i++;
    s.counts[i]!++;
  }

  /** The series of the current event with these own label values (made, or the overflow one). */
  private seriesFor(l1?: string, l2?: string, l3?: string, l4?: string): Series {
    const d = this.cur;
    const c = d.container as { id?: unknown } | undefined;
    const cid = c && typeof c === 'object' ? str(c.id) : '';
    const comm = this.comm ? str(d.comm) : '';
    // \x1f: a separator that container ids, task names and label values do not hold.
    const key = `${cid}\x1f${comm}\x1f${l1 ?? ''}\x1f${l2 ?? ''}\x1f${l3 ?? ''}\x1f${l4 ?? ''}`;
    let s = this.series.get(key);
    if (s === undefined) {
      if (this.series.size >= this.opts.maxSeries) {
        this.folded++;
        s = this.overflow ??= this.newSeries(Object.fromEntries(this.labelNames.map((n) => [n, OVERFLOW])));
      } else {
        s = this.newSeries(this.labelsOf(d, comm, [l1, l2, l3, l4]));
        this.series.set(key, s);
      }
    }
    s.seen = this.opts.now();
    return s;
  }

  private labelsOf(d: Record<string, unknown>, comm: string, own: (string | undefined)[]): Record<string, string> {
    const c = (d.container && typeof d.container === 'object' ? d.container : {}) as Record<string, unknown>;
    const k = (d.k8s && typeof d.k8s === 'object' ? d.k8s : {}) as Record<string, unknown>;
    // Host processes have no container labels (enrichment names them "host"): `container!=""` selects containers.
    const host = c.id === 'host';
    const labels: Record<string, string> = {
      container: host ? '' : str(c.name),
      container_id: host ? '' : str(c.full_id ?? c.id),
      image: str(c.image),
      pod: str(k.pod),
      namespace: str(k.namespace),
    };
    if (this.comm) labels.comm = comm;
    this.spec.labels.forEach((n, i) => (labels[n] = own[i] ?? ''));
    return labels;
  }

  private newSeries(labels: Record<string, string>): Series {
    const s: Series = { text: labelText(labels), labels, value: 0, seen: this.opts.now() };
    if (this.type === 'histogram') s.counts = new Float64Array(this.bounds.length + 1);
    return s;
  }

  /** Drops series not updated within the TTL. */
  private expire(): void {
    const old = this.opts.now() - this.opts.ttlMs;
    for (const [k, s] of this.series) if (s.seen < old) this.series.delete(k);
  }

  get size(): number {
    return this.series.size;
  }

  private all(): Series[] {
    this.expire();
    const out = [...this.series.values()];
    if (this.overflow) out.push(this.overflow);
    return out;
  }

  /** The family in the Prometheus text format (with HELP and TYPE), or '' when it has no series. */
  text(): string {
    const all = this.all();
    if (all.length === 0) return '';
    const parts: string[] = [`# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${this.name} ${this.type}`];
    const n = this.name;
    for (const s of all) {
      const lt = s.text;
      if (!s.counts) {
        parts.push(`${n}${lt ? `{${lt}}` : ''} ${numText(s.value)}`);
        continue;
      }
      const pre = lt ? `${lt},` : '';
      let cum = 0;
      for (let i = 0; i < s.counts.length; i++) {
        cum += s.counts[i]!;
        const le = i < this.bounds.length ? numText(this.bounds[i]!) : '+Inf';
        parts.push(`${n}_bucket{${pre}le="${le}"} ${cum}`);
      }
      parts.push(`${n}_sum${lt ? `{${lt}}` : ''} ${numText(s.value)}`, `${n}_count${lt ? `{${lt}}` : ''} ${cum}`);
    }
    return parts.join('\n') + '\n';
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
    this.folded = 0;
  }
}
