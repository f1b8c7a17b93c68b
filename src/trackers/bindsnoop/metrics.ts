/** bindsnoop: binds per container, task name, protocol, port and result. */
import type { MetricSpec } from '../../metrics/types.js';

export const bindsnoopMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_socket_binds_total',
    help: 'Socket binds, by container, task name, protocol, port (host byte order) and result (0 or the errno name).',
    type: 'counter',
    labels: ['protocol', 'port', 'result'],
    update(d, add) {
      add(1, String(d.protocol), String(d.port), String(d.result));
    },
  },
];
