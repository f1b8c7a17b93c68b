export { createRegistry } from './registry.js';
export { registerAlertMetrics } from './alerts.js';
export { registerStoreMetrics } from './store.js';
export { registerAgentMetrics, TrackerTotals, type AgentMetricsSource, type InstanceCounts } from './agent.js';
export { MetricsExporter, type ExporterOptions } from './exporter.js';
export { exposition, expositionBody } from './exposition.js';
export { startMetricsServer } from './server.js';
export type { MetricSpec, MetricTarget, TrackerMetrics } from './types.js';
export { enableBpfStats } from './bpf-stats.js';
