/** oomkill: OOM kills per container and victim task name. */
import type { MetricSpec } from '../../metrics/types.js';

export const oomkillMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_oom_kills_total',
    help: 'Processes killed by the OOM killer, by container and the victim\'s task name.',
    type: 'counter',
    labels: ['comm'],
    // comm is the victim's, not the task that triggered the kill.
    comm: false,
    update(d, add) {
      add(1, String(d.victim_comm));
    },
  },
];
