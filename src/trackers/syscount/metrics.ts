/** syscount: calls and time in them, by syscall (host-wide) or by process. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { SyscountData } from './index.js';

export const syscountMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_syscount_calls_total',
      help: 'System calls counted by syscount: by syscall (container and comm empty) or by process (syscall empty unless filtered).',
      type: 'counter',
      labels: ['syscall'],
    },
    { name: 'eunomia_syscount_time_seconds_total', help: 'Time spent in the system calls syscount --latency counted (entry to exit).', type: 'counter', labels: ['syscall'] },
  ],
  update(d: SyscountData, f) {
    const calls = f[0]!;
    const time = f[1]!;
    const syscall = typeof d.syscall === 'string' ? d.syscall : '';
    calls.add(Number(d.count), syscall);
    if (d.total_ns !== undefined) time.add(Number(d.total_ns) / 1e9, syscall);
  },
};
