/** tcpconnect: TCP connects and accepts per container, task name, direction, family, server port and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original Eunomia's (metrics.original_names): connects (it saw no accepts), port in host byte order. */
export const tcpconnectOriginalMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_observed_tcp_v4_count', help: "The original Eunomia's: IPv4 TCP connects, by user, task name, container and destination port.", type: 'counter', labels: ['uid', 'task', 'container_name', 'port'], comm: false },
    { name: 'eunomia_observed_tcp_v6_count', help: "The original Eunomia's: IPv6 TCP connects, by user, task name, container and destination port.", type: 'counter', labels: ['uid', 'task', 'container_name', 'port'], comm: false },
  ],
  update(d: TcpconnectData, f) {
    if (d.direction !== 'connect') return;
    originalTarget(f, 2, d.family === 'ipv6' ? 1 : 0).add(1, d.uid, d.comm, containerName(d), d.dport);
  },
};
