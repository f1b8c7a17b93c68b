/** syscall: calls per container, task name and syscall (from the count rows). */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { SyscallData } from './index.js';

export const syscallMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_syscalls_total', help: 'System calls, by container, task name and syscall (the syscall tracker\'s reported count rows).', type: 'counter', labels: ['syscall'] },
  ],
  update(d: SyscallData, f) {
    const calls = f[0]!;
    if (d.type === 'count') calls.add(Number(d.count), d.syscall ?? '');
  },
};
