/**
 * The agent's Prometheus registry: the process metrics every client library exports
 * (process_*, nodejs_*; unprefixed, as dashboards expect them), plus the families each part
 * of Eunomia registers.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
