/** syscall: calls per container, task name and syscall (from the count rows). */
import type { TrackerMetrics } from '../../metrics/types.js';
import { originalTarget } from '../original-metrics.js';
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

/** The original Eunomia's (metrics.original_names). */
export const syscallOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_observed_syscall_count', help: "The original Eunomia's: system calls, by task name and syscall.", type: 'counter', labels: ['syscall'] }],
  update(d: SyscallData, f) {
    if (d.type === 'count') originalTarget(f, 1, 0).add(Number(d.count), d.syscall ?? '');
  },
};
