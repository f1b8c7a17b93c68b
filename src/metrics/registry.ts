/**
 * The agent's Prometheus registry: process metrics (RSS, CPU) from prom-client, plus the
 * families each part of Eunomia registers. Values are read from the parts' own counters when
 * Prometheus scrapes, so the event path pays nothing for them.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'eunomia_' });
  return registry;
}
