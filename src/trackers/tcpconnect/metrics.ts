/** tcpconnect: TCP connects and accepts per container, task name, direction, family, server port and result. */
import type { MetricSpec } from '../../metrics/types.js';

export const tcpconnectMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_tcp_connections_total',
    help: 'TCP connections, by container, task name, direction (connect, accept), family, server port (host byte order) and result (0 or the errno name).',
    type: 'counter',
    labels: ['direction', 'family', 'port', 'result'],
    update(d, add) {
      // dport is the server's port both ways: a connect's destination, an accept's local port
      // (the accepting side's source is the client).
      add(1, String(d.direction), String(d.family), String(d.dport), String(d.result));
    },
  },
];
