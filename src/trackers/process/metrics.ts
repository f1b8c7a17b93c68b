/** process: execs and exits per container and task name; lifetimes as a histogram. */
import type { MetricSpec } from '../../metrics/types.js';
import { signalName } from '../names/signals.js';

export const processMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_process_execs_total',
    help: 'Programs executed (execve), by container and task name.',
    type: 'counter',
    labels: [],
    update(d, add) {
      if (d.type === 'exec') add(1);
    },
  },
  {
    name: 'eunomia_process_exits_total',
    help: 'Processes that exited, by container, task name and status (ok, error for a non-zero exit code, or the signal that killed it).',
    type: 'counter',
    labels: ['status'],
    update(d, add) {
      if (d.type !== 'exit') return;
      const sig = Number(d.exit_signal);
      add(1, sig ? signalName(sig) : Number(d.exit_code) ? 'error' : 'ok');
    },
  },
  {
    name: 'eunomia_process_lifetime_seconds',
    help: 'Process lifetime from exec (or fork) to exit, by container.',
    type: 'histogram',
    labels: [],
    comm: false,
    buckets: [0.001, 0.01, 0.1, 1, 10, 60, 600, 3600],
    update(d, add) {
      if (d.type === 'exit' && typeof d.duration_ns === 'number') add(d.duration_ns / 1e9);
    },
  },
];
