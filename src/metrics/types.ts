/** What a tracker declares to have its events counted as Prometheus metric families (docs/metrics.md); declared with the descriptor types, below the metrics subsystem. */
export type { Label, MetricSpec, MetricTarget, TrackerMetrics } from '../runtime/metric-spec.js';
