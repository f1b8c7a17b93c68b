/** mountsnoop: mount-family calls per container, task name, call and result. */
import type { MetricSpec } from '../../metrics/types.js';

export const mountsnoopMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_mounts_total',
    help: 'Mount-family calls (mount, umount, fsopen, fsmount, move_mount …), by container, task name, call and result (ok or the errno name).',
    type: 'counter',
    labels: ['call', 'result'],
    update(d, add) {
      add(1, String(d.call), typeof d.error === 'string' && d.error ? d.error : 'ok');
    },
  },
];
