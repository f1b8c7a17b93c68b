/**
 * memleak: failed allocations by container, process name and allocator — each failed row is the
 * failures of one interval, so a counter adds them up. Outstanding bytes have no family: by stack
 * they would be a series per stack, and a per-container total would need a gauge (families are
 * counters and histograms) of every allocation, not of the top rows a report carries.
 */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { MemleakRow } from './report.js';

export const memleakMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_memory_allocation_failures_total',
      help: 'Allocations that failed (NULL from malloc and its kin, MAP_FAILED from mmap; in the kernel a NULL kmalloc or page), by container, process name and allocator (heap, mmap, slab, page, percpu), as memleak reports them.',
      type: 'counter',
      labels: ['allocator'],
      comm: true,
    },
  ],
  update(d: MemleakRow, f) {
    if (d.kind === 'failed') f[0]!.add(d.allocations, d.allocator);
  },
};
