/** ipc: System V and POSIX IPC calls per container, task name and call. */
import type { MetricSpec } from '../../metrics/types.js';

export const ipcMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_ipc_calls_total',
    help: 'System V and POSIX message queue, shared memory and semaphore calls, by container, task name and call.',
    type: 'counter',
    labels: ['call'],
    update(d, add) {
      add(1, String(d.call));
    },
  },
];
