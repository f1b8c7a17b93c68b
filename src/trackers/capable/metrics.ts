/** capable: capability checks per container, task name, capability and verdict. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original Eunomia's (metrics.original_names): one per check (it added the pid); `cap` the number, `name` the capability. */
export const capableOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_capable_counter', help: "The original Eunomia's: capability checks, by task name, container and capability.", type: 'counter', labels: ['task', 'container_name', 'cap', 'name'], comm: false }],
  update(d: CapableData, f) {
    originalTarget(f, 1, 0).add(1, d.comm, containerName(d), d.cap_raw, d.cap);
  },
};
