/** ipc: System V and POSIX IPC calls per container, task name and call. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { IpcData } from './index.js';

export const ipcMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_ipc_calls_total', help: 'System V and POSIX message queue, shared memory and semaphore calls, by container, task name and call.', type: 'counter', labels: ['call'] },
  ],
  update(d: IpcData, f) {
    const calls = f[0]!;
    calls.add(1, d.call);
  },
};
