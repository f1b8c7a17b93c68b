/**
 * Families whose values are read from Eunomia's own counters when Prometheus scrapes (the
 * event path pays nothing for them): refilled by `fill` at each collection.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** What `fill` sets: a counter's total or a gauge's value, per label set. */
export type Put = (labels: Record<string, string>, value: number) => void;

export function collected(registry: Registry, type: 'counter' | 'gauge', name: string, help: string, labelNames: string[], fill: (put: Put) => void): void {
  const Metric = type === 'counter' ? Counter : Gauge;
  new Metric({
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: Counter<string> | Gauge<string>) {
      this.reset();
      // A counter is set by incrementing it from zero: its totals only ever grow.
      fill(this instanceof Counter ? (labels, v) => this.inc(labels, v) : (labels, v) => (this as Gauge<string>).set(labels, v));
    },
  });
}
