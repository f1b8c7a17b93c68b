/** process: execs and exits per container and task name; lifetimes as a histogram. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { ProcessData } from './index.js';
import { signalName } from '../names/signals.js';

export const processMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_process_execs_total', help: 'Programs executed (execve), by container and task name.', type: 'counter', labels: [] },
    {
      name: 'eunomia_process_exits_total',
      help: 'Processes that exited, by container, task name and status (ok, error for a non-zero exit code, or the signal that killed it).',
      type: 'counter',
      labels: ['status'],
    },
    {
      name: 'eunomia_process_lifetime_seconds',
      help: 'Process lifetime from exec (or fork) to exit, by container.',
      type: 'histogram',
      labels: [],
      comm: false,
      buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600],
    },
  ],
  update(d: ProcessData, f) {
    const execs = f[0]!;
    const exits = f[1]!;
    const lifetime = f[2]!;
    if (d.type === 'exec') {
      execs.add(1);
      return;
    }
    const sig = Number(d.exit_signal);
    exits.add(1, sig ? signalName(sig) : Number(d.exit_code) ? 'error' : 'ok');
    if (typeof d.duration_ns === 'number') lifetime.add(d.duration_ns / 1e9);
  },
};
