/** Alert counters: what the analyzer sent and what its throttle held back, by rule and priority. */
import { Counter, type Registry } from 'prom-client';
import type { Analyzer } from '../analyzer/analyzer.js';

export function registerAlertMetrics(registry: Registry, analyzer: Analyzer): void {
  const priority = new Map(analyzer.rules.rules().map((r) => [r.id, r.priority]));
  // The analyzer keeps the totals; a scrape copies them (a counter that only ever grows).
  const fill = (c: Counter<'rule' | 'priority'>, counts: Record<string, number>): void => {
    c.reset();
    for (const [rule, n] of Object.entries(counts)) c.inc({ rule, priority: priority.get(rule) ?? 'unknown' }, n);
  };
  new Counter({
    name: 'eunomia_alerts_total',
    help: 'Security alerts sent, by rule and priority (after throttling).',
    labelNames: ['rule', 'priority'] as const,
    registers: [registry],
    collect() {
      fill(this, analyzer.stats().alertsByRule);
    },
  });
  new Counter({
    name: 'eunomia_alerts_suppressed_total',
    help: 'Rule matches held back by the per rule and container throttle, by rule and priority.',
    labelNames: ['rule', 'priority'] as const,
    registers: [registry],
    collect() {
      fill(this, analyzer.stats().suppressedByRule);
    },
  });
}
