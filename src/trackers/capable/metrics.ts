/** capable: capability checks per container, task name, capability and verdict. */
import type { MetricSpec } from '../../metrics/types.js';

export const capableMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_capability_checks_total',
    help: 'Capability checks, by container, task name, capability and verdict (allowed, denied).',
    type: 'counter',
    labels: ['capability', 'verdict'],
    update(d, add) {
      add(1, String(d.cap), String(d.verdict));
    },
  },
];
