/** process: execs and exits per container and task name; lifetimes as a histogram. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original Eunomia's (metrics.original_names): the exec counter under the name it exported (typo included). */
export const processOriginalMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_bserved_process_start', help: "The original Eunomia's exec counter, under the name it exported: execs by task name and container.", type: 'counter', labels: ['container_name'] },
    { name: 'eunomia_observed_process_end', help: "The original Eunomia's exit counter: exits by exit code, task name and container.", type: 'counter', labels: ['exit_code', 'container_name'] },
  ],
  update(d: ProcessData, f) {
    if (d.type === 'exec') originalTarget(f, 2, 0).add(1, containerName(d));
    else if (d.type === 'exit') originalTarget(f, 2, 1).add(1, Number(d.exit_code), containerName(d));
  },
};
