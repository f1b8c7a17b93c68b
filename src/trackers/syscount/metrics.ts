/** syscount: calls and time in them, by syscall (host-wide) or by process. */
import type { MetricSpec } from '../../metrics/types.js';

const syscall = (d: Record<string, unknown>): string => (typeof d.syscall === 'string' ? d.syscall : '');

export const syscountMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_syscount_calls_total',
    help: 'System calls counted by syscount: by syscall (container and comm empty) or by process (syscall empty unless filtered).',
    type: 'counter',
    labels: ['syscall'],
    update(d, add) {
      add(Number(d.count), syscall(d));
    },
  },
  {
    name: 'eunomia_syscount_time_seconds_total',
    help: 'Time spent in the system calls syscount --latency counted (entry to exit).',
    type: 'counter',
    labels: ['syscall'],
    update(d, add) {
      if (d.total_ns !== undefined) add(Number(d.total_ns) / 1e9, syscall(d));
    },
  },
];
