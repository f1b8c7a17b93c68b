/** oomkill: OOM kills per container and victim task name. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { OomkillEvent } from './event.gen.js';

export const oomkillMetrics: TrackerMetrics = {
  families: [
    // comm is the victim's, not the task that triggered the kill.
    { name: 'eunomia_oom_kills_total', help: 'Processes killed by the OOM killer, by container and the victim\'s task name.', type: 'counter', labels: ['comm'], comm: false },
  ],
  update(d: OomkillEvent, f) {
    const kills = f[0]!;
    kills.add(1, d.victim_comm);
  },
};
