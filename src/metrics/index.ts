export { createRegistry } from './registry.js';
export { registerAlertMetrics } from './alerts.js';
export { startMetricsServer } from './server.js';
