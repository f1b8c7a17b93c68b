/**
 * The agent's Prometheus registry: the process metrics every client library exports
 * (process_*, nodejs_*; unprefixed, as dashboards expect them), plus the families each part
 * of Eunomia registers.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(): Registry {
  const registry = new Registry();
  // The event-loop lag histogram samples with a timer: every 10 ms by default, which alone
  // kept an idle agent at ~1 % of a core. Once a second is enough to see a stalled loop.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 1000 });
  return registry;
}
