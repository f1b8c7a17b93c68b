/** secsnoop: security-relevant syscall attempts per container, task name and call. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { SecsnoopData } from './index.js';

export const secsnoopMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_security_syscalls_total',
      help: 'Attempts of security-relevant system calls (bpf, ptrace, setns, unshare, memfd_create …), by container, task name and call.',
      type: 'counter',
      labels: ['call'],
    },
  ],
  update(d: SecsnoopData, f) {
    const calls = f[0]!;
    calls.add(1, d.call);
  },
};
