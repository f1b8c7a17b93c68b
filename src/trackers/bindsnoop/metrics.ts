/** bindsnoop: binds per container, task name, protocol, port and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { BindsnoopData } from './index.js';

export const bindsnoopMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_socket_binds_total',
      help: 'Socket binds, by container, task name, protocol, port (host byte order) and result (0 or the errno name).',
      type: 'counter',
      labels: ['protocol', 'port', 'result'],
    },
  ],
  update(d: BindsnoopData, f) {
    const binds = f[0]!;
    binds.add(1, d.protocol, d.port, d.result);
  },
};
