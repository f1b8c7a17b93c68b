/** seccomp: the calls a recording counted, by container. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { SeccompRow } from './index.js';

/**
 * A row is the recording so far: the counter takes what is new since the cgroup's last row.
 * Keyed by cgroup id (ids are never reused), bounded like the kernel map it mirrors.
 */
const last = new Map<number, number>();
const LIMIT = 1024;

export const seccompMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_seccomp_recorded_calls_total',
      help: 'System calls a seccomp recording counted, by container (each report adds what is new since the last).',
      type: 'counter',
      labels: [],
      comm: false,
    },
  ],
  update(d: SeccompRow, f) {
    const before = last.get(d.cgroup_id) ?? 0;
    if (d.calls < before) return; // a new recording of a cgroup an earlier one saw: counted from its own next report
    if (!last.has(d.cgroup_id) && last.size >= LIMIT) last.delete(last.keys().next().value!);
    last.set(d.cgroup_id, d.calls);
    if (d.calls > before) f[0]!.add(d.calls - before);
  },
};
