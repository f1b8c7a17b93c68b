/**
 * The SDK's OTLP exporters for the chosen protocol, wrapped to count each export's outcome
 * and to log failures at most once a minute: a collector that is down must neither crash the
 * agent nor flood its log.
 */
import { Metadata } from '@grpc/grpc-js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPLogExporter as GrpcLogExporter } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, type PushMetricExporter, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { SignalSettings } from './settings.js';

export interface ExportCounts {
  ok: number;
  failed: number;
}

/** One log line for the first failure, then at most one per interval with the count since. */
export class FailureLog {
  private last = -Infinity;
  private since = 0;

  constructor(
    private readonly log: (line: string) => void,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  failed(what: string, err: unknown): void {
    this.since++;
    const t = this.now();
    if (t - this.last < this.intervalMs) return;
    const n = this.since;
    this.since = 0;
    this.last = t;
    this.log(`otel: ${what} export failed${n > 1 ? ` (${n} failures since the last message)` : ''}: ${errorText(err)}`);
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return err === undefined ? 'unknown error' : String(err);
}

function grpcMetadata(headers: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(headers)) md.set(k.toLowerCase(), v);
  return md;
}

/** Counts metric exports; the data is already cumulative, so temporality is cumulative for every kind. */
export class CountingMetricExporter implements PushMetricExporter {
  readonly counts: ExportCounts = { ok: 0, failed: 0 };

  constructor(
    private readonly inner: PushMetricExporter,
    private readonly failures: FailureLog,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: (result: ExportResult) => void): void {
    try {
      this.inner.export(metrics, (r) => {
        this.count(r);
        resultCallback(r);
      });
    } catch (e) {
      this.count({ code: ExportResultCode.FAILED, error: e as Error });
      resultCallback({ code: ExportResultCode.FAILED, error: e as Error });
    }
  }

  private count(r: ExportResult): void {
    if (r.code === ExportResultCode.SUCCESS) this.counts.ok++;
    else {
      this.counts.failed++;
      this.failures.failed('metrics', r.error);
    }
  }

  selectAggregationTemporality(): AggregationTemporality {
    return AggregationTemporality.CUMULATIVE;
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

export interface LogRecordCounts extends ExportCounts {
  /** Records that reached the exporter, and those whose export failed. */
  records: number;
  failedRecords: number;
  /** Failed records by eventName (alert or event records). */
  failedByEvent: Record<string, number>;
}

export class CountingLogExporter implements LogRecordExporter {
  readonly counts: LogRecordCounts = { ok: 0, failed: 0, records: 0, failedRecords: 0, failedByEvent: {} };

  constructor(
    private readonly inner: LogRecordExporter,
    private readonly failures: FailureLog,
  ) {}

  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    this.counts.records += logs.length;
    const done = (r: ExportResult): void => {
      if (r.code === ExportResultCode.SUCCESS) this.counts.ok++;
      else {
        this.counts.failed++;
        this.counts.failedRecords += logs.length;
        for (const l of logs) {
          const k = l.eventName ?? '';
          this.counts.failedByEvent[k] = (this.counts.failedByEvent[k] ?? 0) + 1;
        }
        this.failures.failed('logs', r.error);
      }
      resultCallback(r);
    };
    try {
      this.inner.export(logs, done);
    } catch (e) {
      done({ code: ExportResultCode.FAILED, error: e as Error });
    }
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

export function metricExporter(s: SignalSettings, timeoutMillis: number): PushMetricExporter {
  const temporalityPreference = AggregationTemporality.CUMULATIVE;
  return s.protocol === 'grpc'
    ? new GrpcMetricExporter({ url: s.url, metadata: grpcMetadata(s.headers), timeoutMillis, temporalityPreference })
    : new ProtoMetricExporter({ url: s.url, headers: s.headers, timeoutMillis, temporalityPreference });
}

export function logExporter(s: SignalSettings, timeoutMillis: number): LogRecordExporter {
  return s.protocol === 'grpc'
    ? new GrpcLogExporter({ url: s.url, metadata: grpcMetadata(s.headers), timeoutMillis })
    : new ProtoLogExporter({ url: s.url, headers: s.headers, timeoutMillis });
}
