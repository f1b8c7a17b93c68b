export { PRIORITIES, type Alert, type AlertProcess, type AlertSink, type Priority } from './types.js';
export { Throttle, type ThrottleOptions } from './throttle.js';
export { alertLine, jsonlSink, logSink, webhookSink, type WebhookOptions } from './sinks.js';
