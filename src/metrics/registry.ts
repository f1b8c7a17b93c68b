/**
 * The agent's Prometheus registry: the process metrics every client library exports
 * (process_*, nodejs_*; unprefixed, as dashboards expect them), plus the families each part
 * of Eunomia registers.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

export function createRegistry(): Registry {
  const registry = new Registry();
  // The event-loop lag histogram samples with a timer: every 10 ms by default, which alone
  // kept an idle agent at ~1 % of a core. Once a second is enough to see a stalled loop.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  dropSumGauges(registry);
  return registry;
}

/**
 * prom-client's nodejs_active_{handles,requests,resources}_total are gauges named like
 * counters (promtool: `non-counter metrics should not have "_total" suffix`), and each is only
 * the sum of the family without `_total`, which counts the same things by `type`. They are
 * dropped: `sum(nodejs_active_handles)` is the same number. Only such duplicates go.
 */
function dropSumGauges(registry: Registry): void {
  for (const m of registry.getMetricsAsArray()) {
    if (m instanceof Gauge && m.name.endsWith('_total') && registry.getSingleMetric(m.name.slice(0, -'_total'.length))) registry.removeSingleMetric(m.name);
  }
}
