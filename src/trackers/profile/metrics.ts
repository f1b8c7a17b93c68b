/** profile: samples by container and process name — a CPU-time share per container, from sampling. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { StackRow } from '../../profiling/stacks.js';

export const profileMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_profile_samples_total',
      help: 'On-CPU samples the profile tracker took, by container and process name, and whether the user stack was whole (ok, truncated, unresolved, none, lost, not-taken).',
      type: 'counter',
      labels: ['user_stack'],
      comm: true,
    },
  ],
  update(d: StackRow, f) {
    f[0]!.add(d.count, d.user);
  },
};
