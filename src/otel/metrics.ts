/**
 * The prom-client registry as an OpenTelemetry MetricProducer: each export reads the registry
 * (the same values /metrics serves) and converts prom-client's JSON form to OTel metric data.
 * counter → monotonic cumulative Sum, gauge → Gauge, histogram → cumulative explicit-bucket
 * Histogram, summary → a Gauge per quantile plus `_sum`/`_count` Sums (OTLP has no summary in
 * the SDK's data model). Labels become attributes, the container labels under their
 * semantic-convention names.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime, millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  DataPointType,
  type CollectionResult,
  type DataPoint,
  type Histogram,
  type MetricData,
  type MetricProducer,
} from '@opentelemetry/sdk-metrics';
import type { Registry } from 'prom-client';
import { imageAttributes, LABEL_ATTRIBUTES } from './semconv.js';

interface PromValue {
  value: number;
  labels: Record<string, string | number | undefined>;
  metricName?: string;
}

interface PromMetric {
  name: string;
  help: string;
  type: unknown;
  values: PromValue[];
}

/** prom-client's JSON says 'counter' etc.; its typings say an enum: accept both. */
function kindOf(type: unknown): 'counter' | 'gauge' | 'histogram' | 'summary' | undefined {
  const names = ['counter', 'gauge', 'histogram', 'summary'] as const;
  if (typeof type === 'number') return names[type];
  return names.find((n) => n === type);
}

/** Unit from the Prometheus name's base-unit suffix (UCUM, as OTLP wants). */
function unitOf(name: string): string {
  const base = name.replace(/_total$/, '');
  if (base.endsWith('_seconds')) return 's';
  if (base.endsWith('_bytes')) return 'By';
  return '';
}

/** Prometheus labels → attributes. Empty values are absent labels in Prometheus, so they are left out. */
export function labelAttributes(labels: PromValue['labels'], skip?: string): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(labels)) {
    if (v === undefined || v === '' || k === skip) continue;
    if (k === 'image' && typeof v === 'string') imageAttributes(v, out);
    else out[LABEL_ATTRIBUTES[k] ?? k] = v;
  }
  return out;
}

/** Sorted-key identity of a label set (without `skip`), to group histogram rows into series. */
function seriesKey(labels: PromValue['labels'], skip?: string): string {
  return JSON.stringify(Object.keys(labels).filter((k) => k !== skip && labels[k] !== undefined && labels[k] !== '').sort().map((k) => [k, labels[k]]));
}

export interface RegistryProducerOptions {
  registry: Registry;
  scope: InstrumentationScope;
  /** Only for the CollectionResult shape: the reader keeps its MeterProvider's resource. */
  resource: Resource;
}

/**
 * Cumulative points need a start time per series. Counters run since the process started;
 * one that went down was reset (a series dropped by the TTL and created again, or a counter
 * refilled from a source that restarted), so it starts again now.
 */
class StartTimes {
  private readonly processStart: HrTime = millisToHrTime(performance.timeOrigin);
  private prev = new Map<string, { start: HrTime; last: number }>();
  private next = new Map<string, { start: HrTime; last: number }>();

  startOf(key: string, value: number, now: HrTime): HrTime {
    const p = this.prev.get(key);
    const start = p === undefined ? this.processStart : value < p.last ? now : p.start;
    this.next.set(key, { start, last: value });
    return start;
  }

  /** After a collection: series not seen in it are forgotten (bounded by the registry's series). */
  rotate(): void {
    this.prev = this.next;
    this.next = new Map();
  }
}

export class RegistryMetricProducer implements MetricProducer {
  private readonly starts = new StartTimes();

  constructor(private readonly opts: RegistryProducerOptions) {}

  async collect(): Promise<CollectionResult> {
    const errors: unknown[] = [];
    // One metric at a time: a collect() callback that throws loses its own family only.
    // (Every registered metric has get(), which getMetricsAsJSON calls; the typings omit it.)
    const all = this.opts.registry.getMetricsAsArray() as unknown as { get(): Promise<unknown> }[];
    const results = await Promise.allSettled(all.map((m) => Promise.resolve().then(() => m.get())));
    const now = hrTime();
    const metrics: MetricData[] = [];
    for (const r of results) {
      if (r.status === 'rejected') {
        errors.push(r.reason);
        continue;
      }
      try {
        metrics.push(...this.convert(r.value as unknown as PromMetric, now));
      } catch (e) {
        errors.push(e);
      }
    }
    this.starts.rotate();
    return { resourceMetrics: { resource: this.opts.resource, scopeMetrics: [{ scope: this.opts.scope, metrics }] }, errors };
  }

  private convert(m: PromMetric, now: HrTime): MetricData[] {
    const descriptor = (name: string) => ({ name, description: m.help, unit: unitOf(name), valueType: ValueType.DOUBLE });
    const sum = (name: string, values: PromValue[], skip?: string): MetricData => ({
      descriptor: descriptor(name),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: values.map((v) => ({
        startTime: this.starts.startOf(`${name}${seriesKey(v.labels, skip)}`, v.value, now),
        endTime: now,
        attributes: labelAttributes(v.labels, skip),
        value: v.value,
      })),
    });
    const gauge = (name: string, values: PromValue[]): MetricData => ({
      descriptor: descriptor(name),
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.GAUGE,
      dataPoints: values.map((v) => ({ startTime: now, endTime: now, attributes: labelAttributes(v.labels), value: v.value })),
    });
    switch (kindOf(m.type)) {
      case 'counter':
        return [sum(m.name, m.values)];
      case 'gauge':
        return [gauge(m.name, m.values)];
      case 'histogram':
        return [this.histogram(m, descriptor(m.name), now)];
      case 'summary': {
        const by = (suffix: string) => m.values.filter((v) => v.metricName === `${m.name}${suffix}`);
        return [gauge(m.name, m.values.filter((v) => v.metricName === undefined || v.metricName === m.name)), sum(`${m.name}_sum`, by('_sum')), sum(`${m.name}_count`, by('_count'))];
      }
      default:
        throw new Error(`metric ${m.name}: unknown type ${String(m.type)}`);
    }
  }

  /** `_bucket` rows (cumulative counts by `le`), `_sum` and `_count` → one point per label set. */
  private histogram(m: PromMetric, descriptor: MetricData['descriptor'], now: HrTime): MetricData {
    const series = new Map<string, { labels: PromValue['labels']; buckets: [number, number][]; sum?: number; count?: number }>();
    const at = (v: PromValue) => {
      const key = seriesKey(v.labels, 'le');
      let s = series.get(key);
      if (!s) series.set(key, (s = { labels: v.labels, buckets: [] }));
      return s;
    };
    for (const v of m.values) {
      if (v.metricName === `${m.name}_bucket`) {
        const le = v.labels.le;
        at(v).buckets.push([le === '+Inf' ? Infinity : Number(le), v.value]);
      } else if (v.metricName === `${m.name}_sum`) at(v).sum = v.value;
      else if (v.metricName === `${m.name}_count`) at(v).count = v.value;
    }
    const dataPoints: DataPoint<Histogram>[] = [];
    for (const [key, s] of series) {
      s.buckets.sort((a, b) => a[0] - b[0]);
      const boundaries = s.buckets.filter(([le]) => Number.isFinite(le)).map(([le]) => le);
      // Prometheus buckets count everything up to `le`; OTLP's count each interval alone.
      const counts: number[] = [];
      let below = 0;
      for (const [, cum] of s.buckets) {
        counts.push(Math.max(0, cum - below));
        below = cum;
      }
      const count = s.count ?? below;
      if (counts.length === boundaries.length) counts.push(Math.max(0, count - below)); // no +Inf row
      const value: Histogram = { buckets: { boundaries, counts }, count };
      if (s.sum !== undefined) value.sum = s.sum;
      dataPoints.push({ startTime: this.starts.startOf(`${m.name}${key}`, count, now), endTime: now, attributes: labelAttributes(s.labels, 'le'), value });
    }
    return { descriptor, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPointType: DataPointType.HISTOGRAM, dataPoints };
  }
}
