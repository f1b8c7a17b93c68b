/** seccomplog: what workloads under log-mode profiles did outside them. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { SeccomplogData } from './index.js';

export const seccomplogMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_seccomp_outside_total',
      help: 'Calls (or capability checks) outside a log-mode seccomp profile, one per process, kind and syscall or capability, by container, task name, kind (syscall, argument, capability) and name.',
      type: 'counter',
      labels: ['outside', 'name'],
    },
  ],
  update(d: SeccomplogData, f) {
    f[0]!.add(1, d.outside, d.outside === 'capability' ? (d.capability ?? '') : (d.syscall ?? ''));
  },
};
