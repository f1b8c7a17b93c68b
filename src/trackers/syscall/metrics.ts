/** syscall: calls per container, task name and syscall (from the count rows). */
import type { MetricSpec } from '../../metrics/types.js';

export const syscallMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_syscalls_total',
    help: 'System calls, by container, task name and syscall (the syscall tracker\'s reported count rows).',
    type: 'counter',
    labels: ['syscall'],
    update(d, add) {
      if (d.type === 'count') add(Number(d.count), String(d.syscall));
    },
  },
];
