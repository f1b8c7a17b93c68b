/** funclatency: each interval's histograms, by container, binary and function, into one Prometheus histogram. */
import { basename } from 'node:path';
import type { TrackerMetrics } from '../../metrics/types.js';
import type { FunclatencyData } from './index.js';

// Powers of two from 2^10 ns (~1 µs: below it a uprobe's own cost dominates) to 2^35 ns (~34 s):
// a kernel log2 slot's latencies are all below the next power of two.
const BOUNDS = Array.from({ length: 26 }, (_, k) => 2 ** (k + 10) / 1e9);

export const funclatencyMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_function_latency_seconds',
      help: 'Latency of the user functions funclatency times (entry to return), by the binary (file name) and function.',
      type: 'histogram',
      labels: ['binary', 'function'],
      comm: false,
      buckets: BOUNDS,
    },
    {
      name: 'eunomia_function_calls_unmeasured_total',
      help: 'Calls funclatency could not time: too_deep (the thread had 32 timed calls open), mismatched (a return that did not find its call on top: longjmp, exceptions).',
      type: 'counter',
      labels: ['binary', 'function', 'reason'],
      comm: false,
    },
  ],
  update(d: FunclatencyData, f) {
    const latency = f[0]!;
    const unmeasured = f[1]!;
    const binary = basename(d.binary);
    // Each log2 slot's calls at once (all at most its upper end, so in the bucket of that power
    // of two), and the slot's exact sum.
    for (const b of d.buckets) {
      if (!b.count) continue;
      latency.addCounts(b.high / 1e9, b.count, binary, d.function);
      latency.addSum(b.total_ns / 1e9, binary, d.function);
    }
    if (d.too_deep) unmeasured.add(d.too_deep, binary, d.function, 'too_deep');
    if (d.mismatched) unmeasured.add(d.mismatched, binary, d.function, 'mismatched');
  },
};
