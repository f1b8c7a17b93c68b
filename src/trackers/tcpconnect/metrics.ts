/** tcpconnect: TCP connects and accepts per container, task name, direction, family, server port and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { TcpconnectData } from './index.js';

export const tcpconnectMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_tcp_connections_total',
      help: 'TCP connections, by container, task name, direction (connect, accept), family, server port (host byte order) and result (0 or the errno name).',
      type: 'counter',
      labels: ['direction', 'family', 'port', 'result'],
    },
  ],
  update(d: TcpconnectData, f) {
    const conns = f[0]!;
    // dport is the server's port both ways: a connect's destination, an accept's local port
    // (the accepting side's source is the client).
    conns.add(1, d.direction, d.family, d.dport, d.result);
  },
};
