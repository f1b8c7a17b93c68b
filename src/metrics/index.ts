export { createRegistry } from './registry.js';
export { registerAlertMetrics } from './alerts.js';
export { registerAgentMetrics, TrackerTotals, type AgentMetricsSource, type InstanceCounts } from './agent.js';
export { MetricsExporter, type ExporterOptions } from './exporter.js';
export { exposition } from './exposition.js';
export { startMetricsServer } from './server.js';
export type { MetricSpec, MetricAdd } from './types.js';
