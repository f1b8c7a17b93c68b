/** tcpconnlat: TCP connect latency histogram per container and family. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { TcpconnlatData } from './index.js';

export const tcpconnlatMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_tcp_connect_latency_seconds',
      help: 'TCP connect latency (SYN sent to established), by container and family.',
      type: 'histogram',
      labels: ['family'],
      comm: false,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    },
  ],
  update(d: TcpconnlatData, f) {
    const latency = f[0]!;
    latency.add(Number(d.latency_ns) / 1e9, d.family);
  },
};
