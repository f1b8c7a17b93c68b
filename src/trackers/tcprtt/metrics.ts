/** tcprtt: the interval's log2 RTT histograms, added into one Prometheus histogram. */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { TcprttData } from './index.js';

// Powers of two from 2 µs to 2^27 µs: a log2 slot's values are all below the next power.
const BOUNDS = Array.from({ length: 27 }, (_, k) => 2 ** (k + 1) / 1e6);

export const tcprttMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_tcp_rtt_seconds', help: 'TCP smoothed round-trip time of received segments (tcp_probe), host-wide.', type: 'histogram', labels: [], comm: false, buckets: BOUNDS },
  ],
  update(d: TcprttData, f) {
    const rtt = f[0]!;
    const unit = d.unit === 'msecs' ? 1e-3 : 1e-6;
    for (const b of d.buckets) if (b.count) rtt.addCounts(b.high * unit, b.count);
    rtt.addSum(Number(d.avg) * Number(d.count) * unit);
  },
};
