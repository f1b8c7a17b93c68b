/**
 * What the trackers' `originalMetrics` share: the original Eunomia's metric families, under the
 * names its Prometheus exporter used, for dashboards made for it (opt-in:
 * `metrics.original_names`; docs/metrics.md has the table). Its bugs are not copied (counters
 * added a pid, ports in network byte order, one histogram bucket), nor its unbounded labels
 * (pid, tid, file names, addresses, times: each value a new series); every family has at most
 * four labels of its own besides the container labels.
 */
import type { MetricTarget } from '../runtime/metric-spec.js';

/** The original's `container_name`: the container's name, empty for host processes. */
export function containerName(d: Record<string, unknown>): string {
  const c = d.container as { id?: unknown; name?: unknown } | undefined;
  return c && c.id !== 'host' && typeof c.name === 'string' ? c.name : '';
}

/** Target `i` of an `originalMetrics` with `n` families: they come after the tracker's own. */
export function originalTarget(f: readonly MetricTarget[], n: number, i: number): MetricTarget {
  return f[f.length - n + i]!;
}
