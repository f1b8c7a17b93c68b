/** secsnoop: security-relevant syscall attempts per container, task name and call. */
import type { MetricSpec } from '../../metrics/types.js';

export const secsnoopMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_security_syscalls_total',
    help: 'Attempts of security-relevant system calls (bpf, ptrace, setns, unshare, memfd_create …), by container, task name and call.',
    type: 'counter',
    labels: ['call'],
    update(d, add) {
      add(1, String(d.call));
    },
  },
];
