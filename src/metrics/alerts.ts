/** Alert counters: what the analyzer sent and what its throttle held back, by rule and priority. */
import type { Registry } from 'prom-client';
import type { Analyzer } from '../analyzer/analyzer.js';
import { collected, type Put } from './collected.js';

export function registerAlertMetrics(registry: Registry, analyzer: Analyzer): void {
  const priority = new Map(analyzer.rules.rules().map((r) => [r.id, r.priority]));
  const byRule = (counts: () => Record<string, number>) => (put: Put) => {
    for (const [rule, n] of Object.entries(counts())) put({ rule, priority: priority.get(rule) ?? 'unknown' }, n);
  };
  const labels = ['rule', 'priority'];
  collected(registry, 'counter', 'eunomia_alerts_total', 'Security alerts sent, by rule and priority (after throttling).', labels, byRule(() => analyzer.stats().alertsByRule));
  collected(registry, 'counter', 'eunomia_alerts_suppressed_total', 'Rule matches held back by the per rule and container throttle, by rule and priority.', labels, byRule(() => analyzer.stats().suppressedByRule));
}
