/** capable: capability checks per container, task name, capability and verdict. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { CapableData } from './index.js';

export const capableMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_capability_checks_total', help: 'Capability checks, by container, task name, capability and verdict (allowed, denied).', type: 'counter', labels: ['capability', 'verdict'] },
  ],
  update(d: CapableData, f) {
    const checks = f[0]!;
    checks.add(1, d.cap, d.verdict);
  },
};
