/** mountsnoop: mount-family calls per container, task name, call and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { originalTarget } from '../original-metrics.js';
import type { MountsnoopData } from './index.js';

export const mountsnoopMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_mounts_total',
      help: 'Mount-family calls (mount, umount, fsopen, fsmount, move_mount …), by container, task name, call and result (ok or the errno name).',
      type: 'counter',
      labels: ['call', 'result'],
    },
  ],
  update(d: MountsnoopData, f) {
    const mounts = f[0]!;
    mounts.add(1, d.call, typeof d.error === 'string' && d.error ? d.error : 'ok');
  },
};

/** The original Eunomia's (metrics.original_names): one per call (it added the mount namespace id). */
export const mountsnoopOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_observed_mountsnoop_counter', help: "The original Eunomia's: mount-family calls, by task name.", type: 'counter', labels: [] }],
  update(_d: MountsnoopData, f) {
    originalTarget(f, 1, 0).add(1);
  },
};
