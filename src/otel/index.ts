/**
 * OpenTelemetry export (OTLP over HTTP/protobuf or gRPC): the agent's metrics (the registry
 * behind /metrics), security alerts and the events of chosen trackers as log records, all
 * with a resource naming this agent and host. Built on the official OpenTelemetry JS SDK.
 * Export failures are logged (once a minute at most) and counted; they never stop the agent.
 */
import type { Registry } from 'prom-client';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Analyzer } from '../analyzer/analyzer.js';
import type { Pipeline } from '../pipeline/pipeline.js';
import type { OtelConfig } from './config.js';
import { CountingLogExporter, CountingMetricExporter, FailureLog, logExporter, metricExporter, type ExportCounts } from './exporters.js';
import { ALERT_EVENT_NAME, emitAlert, EventLogSink, LogGate, TRACKER_EVENT_NAME } from './logs.js';
import { RegistryMetricProducer } from './metrics.js';
import { buildResource, eunomiaVersion } from './resource.js';
import { resolveSettings, type OtelSettings } from './settings.js';

export { resolveSettings, type OtelSettings } from './settings.js';

export interface OtelDeps {
  registry: Registry;
  /** Absent when rules are off: then no alerts are exported. */
  analyzer?: Analyzer;
  pipeline: Pipeline;
  log: (line: string) => void;
  /** The OTEL_* variables are read from here; default process.env. */
  env?: Record<string, string | undefined>;
}

export interface OtelStats {
  /** Metric exports (one per interval, and the last at close). */
  metricExports: ExportCounts;
  /** Log exports (batches of records). */
  logExports: ExportCounts;
  logRecords: {
    /** Handed to the SDK. */
    emitted: number;
    /** Lost in failed exports. */
    failed: number;
    /** Turned away: too many waiting for export (the collector is slow or down), or after close. */
    dropped: number;
    alerts: { emitted: number; failed: number; dropped: number };
    events: { emitted: number; failed: number; dropped: number };
  };
}

export interface OtelExport {
  readonly settings: OtelSettings;
  stats(): OtelStats;
  /** Exports what is pending (metrics once more), then shuts the SDK down. Never throws. */
  close(): Promise<void>;
}

/** Records waiting for export at most; also the batch processor's queue size, which so never overflows. */
const MAX_PENDING_RECORDS = 8192;
const MAX_BATCH = 512;
/** close() waits this long at most for the last exports. */
const CLOSE_TIMEOUT_MS = 5_000;

function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([p.then(() => undefined), t]).finally(() => clearTimeout(timer));
}

/** undefined when export is off (see resolveSettings). Throws E_CONFIG for bad settings. */
export async function startOtel(config: OtelConfig, deps: OtelDeps): Promise<OtelExport | undefined> {
  const settings = resolveSettings(config, deps.env);
  if (!settings) return undefined;
  const alerts = settings.alerts && deps.analyzer !== undefined;
  if (settings.alerts && !deps.analyzer) deps.log('otel: rules are off, so no alerts are exported');
  if (!settings.metrics && !alerts && settings.events.length === 0) {
    deps.log('otel: on, but there is nothing to export (metrics, alerts and events are all off)');
    return undefined;
  }
  const resource = buildResource({ serviceName: settings.serviceName, attributes: settings.resourceAttributes });
  const scope = { name: 'eunomia', version: eunomiaVersion() };
  const zero = (): ExportCounts => ({ ok: 0, failed: 0 });

  let meterProvider: MeterProvider | undefined;
  let metricCounter: CountingMetricExporter | undefined;
  if (settings.metrics) {
    metricCounter = new CountingMetricExporter(metricExporter(settings.metrics, settings.requestTimeoutMs), new FailureLog(deps.log));
    const reader = new PeriodicExportingMetricReader({
      exporter: metricCounter,
      exportIntervalMillis: settings.intervalMs,
      exportTimeoutMillis: settings.exportTimeoutMs,
      metricProducers: [new RegistryMetricProducer({ registry: deps.registry, scope, resource })],
    });
    // The provider owns no instruments: it gives the reader its resource and its lifecycle.
    meterProvider = new MeterProvider({ resource, readers: [reader] });
  }

  let loggerProvider: LoggerProvider | undefined;
  let logCounter: CountingLogExporter | undefined;
  let gate: LogGate | undefined;
  let sink: EventLogSink | undefined;
  let unsubscribe: (() => void) | undefined;
  const alertCounts = { emitted: 0, dropped: 0 };
  if (settings.logs && (alerts || settings.events.length > 0)) {
    const counter = new CountingLogExporter(logExporter(settings.logs, settings.requestTimeoutMs), new FailureLog(deps.log));
    logCounter = counter;
    loggerProvider = new LoggerProvider({
      resource,
      processors: [
        new BatchLogRecordProcessor({
          exporter: counter,
          maxQueueSize: MAX_PENDING_RECORDS,
          maxExportBatchSize: MAX_BATCH,
          scheduledDelayMillis: 1000,
          exportTimeoutMillis: settings.requestTimeoutMs,
        }),
      ],
    });
    const g = new LogGate(loggerProvider.getLogger(scope.name, scope.version), MAX_PENDING_RECORDS, () => counter.counts.records);
    gate = g;
    if (alerts) {
      unsubscribe = deps.analyzer!.subscribe((a) => {
        if (emitAlert(g, a)) alertCounts.emitted++;
        else alertCounts.dropped++;
      });
    }
    if (settings.events.length > 0) {
      // Sink names are unique in a pipeline: "otel", or "otel-2" … for a second export.
      const taken = new Set(deps.pipeline.sinkNames());
      let name = 'otel';
      for (let i = 2; taken.has(name); i++) name = `otel-${i}`;
      sink = new EventLogSink(g, settings.events, () => counter.counts.failedByEvent[TRACKER_EVENT_NAME] ?? 0, name);
      deps.pipeline.addSink(sink);
    }
  }

  const parts: string[] = [];
  if (settings.metrics) parts.push(`metrics every ${settings.intervalMs / 1000} s to ${settings.metrics.url} (${settings.metrics.protocol})`);
  if (settings.logs && gate) {
    const what = [...(alerts ? ['alerts'] : []), ...(settings.events.length ? [`events of ${settings.events.join(', ')}`] : [])].join(' and ');
    parts.push(`${what} as logs to ${settings.logs.url} (${settings.logs.protocol})`);
  }
  deps.log(`otel: ${parts.join('; ')}`);

  let closing: Promise<void> | undefined;
  return {
    settings,
    stats(): OtelStats {
      const failedBy = logCounter?.counts.failedByEvent ?? {};
      const ev = sink?.stats();
      const evFailed = failedBy[TRACKER_EVENT_NAME] ?? 0;
      return {
        metricExports: { ...(metricCounter?.counts ?? zero()) },
        logExports: { ok: logCounter?.counts.ok ?? 0, failed: logCounter?.counts.failed ?? 0 },
        logRecords: {
          emitted: gate?.emitted ?? 0,
          failed: logCounter?.counts.failedRecords ?? 0,
          dropped: gate?.dropped ?? 0,
          alerts: { emitted: alertCounts.emitted, failed: failedBy[ALERT_EVENT_NAME] ?? 0, dropped: alertCounts.dropped },
          events: { emitted: ev ? ev.written + evFailed : 0, failed: evFailed, dropped: ev ? ev.dropped - evFailed : 0 },
        },
      };
    },
    close(): Promise<void> {
      closing ??= (async () => {
        unsubscribe?.();
        if (sink) deps.pipeline.removeSink(sink.name);
        if (gate) gate.closed = true;
        // Shutdown flushes: the last metrics and the queued records go out (or fail, counted).
        const done = Promise.allSettled([meterProvider?.shutdown(), loggerProvider?.shutdown()]);
        await withTimeout(done, CLOSE_TIMEOUT_MS);
      })();
      return closing;
    },
  };
}
