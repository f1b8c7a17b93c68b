/** bindsnoop: binds per container, task name, protocol, port and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original Eunomia's (metrics.original_names): one per bind (it added the pid). */
export const bindsnoopOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_observed_bind_counter', help: "The original Eunomia's: socket binds, by task name, container, protocol and port.", type: 'counter', labels: ['task', 'container_name', 'proto', 'port'], comm: false }],
  update(d: BindsnoopData, f) {
    originalTarget(f, 1, 0).add(1, d.comm, containerName(d), d.protocol, d.port);
  },
};
