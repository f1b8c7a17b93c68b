/** tcpconnlat: TCP connect latency histogram per container and family. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original's buckets were {0}: these are the current ones, in its unit (milliseconds). */
const MS_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** The original Eunomia's (metrics.original_names): latency in milliseconds. */
export const tcpconnlatOriginalMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_observed_tcpconnlat_v4_histogram', help: "The original Eunomia's: IPv4 TCP connect latency in milliseconds, by task name, container and port.", type: 'histogram', labels: ['task', 'container_name', 'port'], comm: false, buckets: MS_BUCKETS },
    { name: 'eunomia_observed_tcpconnlat_v6_histogram', help: "The original Eunomia's: IPv6 TCP connect latency in milliseconds, by task name, container and port.", type: 'histogram', labels: ['task', 'container_name', 'port'], comm: false, buckets: MS_BUCKETS },
  ],
  update(d: TcpconnlatData, f) {
    originalTarget(f, 2, d.family === 'ipv6' ? 1 : 0).add(Number(d.latency_ns) / 1e6, d.comm, containerName(d), d.dport);
  },
};
