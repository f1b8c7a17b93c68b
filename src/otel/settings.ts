/**
 * The effective OTLP export settings: the config file's [otel] table over the standard
 * OTEL_* environment variables over the OTLP defaults. Every value used is checked here, so a
 * bad one stops the agent at start with an E_CONFIG naming the key or variable, instead of
 * failing later inside the exporter.
 */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { OtelConfig, OtlpProtocol } from './config.js';

export type Signal = 'metrics' | 'logs';

export interface SignalSettings {
  protocol: OtlpProtocol;
  /** Full URL: with the /v1/<signal> path for http/protobuf, host:port only for gRPC. */
  url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, then the per-signal variable over it. */
  headers: Record<string, string>;
}

export interface OtelSettings {
  /** Metric export (absent when off). */
  metrics?: SignalSettings;
  /** Log export, for alerts and events (absent when neither is on). */
  logs?: SignalSettings;
  alerts: boolean;
  /** Trackers whose events become log records. */
  events: string[];
  /** Metric export interval. */
  intervalMs: number;
  /** Longest one metric export (collect and send) may take; never more than the interval. */
  exportTimeoutMs: number;
  /** Longest one OTLP request may take (OTEL_EXPORTER_OTLP_TIMEOUT). */
  requestTimeoutMs: number;
  /** service.name: OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES, else "eunomia". */
  serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (service.name taken out: see serviceName). */
  resourceAttributes: Record<string, string>;
}

export const PROTOCOLS: readonly OtlpProtocol[] = ['http/protobuf', 'grpc'];
export const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_EXPORT_TIMEOUT_MS = 30_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** OTLP's default collector addresses. */
const DEFAULT_ENDPOINT: Record<OtlpProtocol, string> = { 'http/protobuf': 'http://localhost:4318', grpc: 'http://localhost:4317' };
const SIGNAL_ENV: Record<Signal, string> = { metrics: 'METRICS', logs: 'LOGS' };

type Env = Record<string, string | undefined>;

function bad(where: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.CONFIG, `OpenTelemetry: ${where} ${msg}`);
}

/** A set, non-blank variable (the spec treats an empty value as unset). */
function envValue(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function checkUrl(where: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw bad(where, `must be an http:// or https:// URL, got "${value}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw bad(where, `must be an http:// or https:// URL, got "${value}"`);
  return value;
}

function checkProtocol(where: string, value: string): OtlpProtocol {
  if ((PROTOCOLS as readonly string[]).includes(value)) return value as OtlpProtocol;
  const hint = value === 'http/json' ? ' (http/json is not supported)' : '';
  throw bad(where, `must be ${PROTOCOLS.map((p) => `"${p}"`).join(' or ')}, got "${value}"${hint}`);
}

function checkMs(where: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < min) {
    throw bad(where, `must be a whole number of milliseconds, at least ${min}, got "${value}"`);
  }
  return Number(value);
}

/**
 * `key=value,key=value` with percent-encoded values: the W3C Baggage form that
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES use.
 */
export function parseKeyValueList(name: string, value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of value.split(',')) {
    const item = raw.trim();
    if (!item) continue;
    const eq = item.indexOf('=');
    const key = eq < 0 ? '' : item.slice(0, eq).trim();
    if (!key) throw bad(name, `must be a list of key=value pairs separated by commas, got "${item}"`);
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw bad(name, `has a badly percent-encoded value for "${key}"`);
    }
  }
  return out;
}

/** The endpoint as written in the config or OTEL_EXPORTER_OTLP_ENDPOINT: a base URL. */
function baseToSignal(base: string, protocol: OtlpProtocol, signal: Signal): string {
  // http/protobuf: the base gets /v1/<signal> (the spec's rule); gRPC addresses the service by name, not path.
  return protocol === 'grpc' ? base : `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

function signalSettings(config: OtelConfig, env: Env, signal: Signal): SignalSettings {
  const S = SIGNAL_ENV[signal];
  let protocol: OtlpProtocol;
  if (config.protocol !== undefined) protocol = checkProtocol('config key "otel.protocol"', config.protocol);
  else {
    const name = envValue(env, `OTEL_EXPORTER_OTLP_${S}_PROTOCOL`) !== undefined ? `OTEL_EXPORTER_OTLP_${S}_PROTOCOL` : 'OTEL_EXPORTER_OTLP_PROTOCOL';
    const v = envValue(env, name);
    protocol = v === undefined ? 'http/protobuf' : checkProtocol(`variable ${name}`, v);
  }
  let url: string;
  const perSignal = envValue(env, `OTEL_EXPORTER_OTLP_${S}_ENDPOINT`);
  const general = envValue(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (config.endpoint !== undefined) url = baseToSignal(checkUrl('config key "otel.endpoint"', config.endpoint), protocol, signal);
  // The per-signal variable is the full URL, used as it is.
  else if (perSignal !== undefined) url = checkUrl(`variable OTEL_EXPORTER_OTLP_${S}_ENDPOINT`, perSignal);
  else if (general !== undefined) url = baseToSignal(checkUrl('variable OTEL_EXPORTER_OTLP_ENDPOINT', general), protocol, signal);
  else url = baseToSignal(DEFAULT_ENDPOINT[protocol], protocol, signal);
  const headers: Record<string, string> = {};
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${S}_HEADERS`]) {
    const v = envValue(env, name);
    if (v !== undefined) Object.assign(headers, parseKeyValueList(`variable ${name}`, v));
  }
  return { protocol, url, headers };
}

/** Is export on? `enabled` decides when given; otherwise an endpoint anywhere turns it on. */
function isEnabled(config: OtelConfig, env: Env): boolean {
  if (config.enabled !== undefined) return config.enabled;
  if ((envValue(env, 'OTEL_SDK_DISABLED') ?? '').toLowerCase() === 'true') return false;
  if (config.endpoint !== undefined) return true;
  return ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT'].some((n) => envValue(env, n) !== undefined);
}

/** undefined when export is off. Throws E_CONFIG naming the key or variable of a bad value. */
export function resolveSettings(config: OtelConfig, env: Env = process.env): OtelSettings | undefined {
  if (!isEnabled(config, env)) return undefined;
  let intervalMs = DEFAULT_INTERVAL_MS;
  if (config.intervalMs !== undefined) {
    if (!Number.isSafeInteger(config.intervalMs) || config.intervalMs < 100) throw bad('config key "otel.interval_ms"', `must be at least 100, got ${config.intervalMs}`);
    intervalMs = config.intervalMs;
  } else {
    const v = envValue(env, 'OTEL_METRIC_EXPORT_INTERVAL');
    if (v !== undefined) intervalMs = checkMs('variable OTEL_METRIC_EXPORT_INTERVAL', v, 100);
  }
  const t = envValue(env, 'OTEL_METRIC_EXPORT_TIMEOUT');
  // The SDK refuses a timeout longer than the interval: the next export would overlap this one.
  const exportTimeoutMs = Math.min(intervalMs, t === undefined ? DEFAULT_EXPORT_TIMEOUT_MS : checkMs('variable OTEL_METRIC_EXPORT_TIMEOUT', t, 1));
  const rt = envValue(env, 'OTEL_EXPORTER_OTLP_TIMEOUT');
  const requestTimeoutMs = rt === undefined ? DEFAULT_REQUEST_TIMEOUT_MS : checkMs('variable OTEL_EXPORTER_OTLP_TIMEOUT', rt, 1);

  const ra = envValue(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const resourceAttributes = ra === undefined ? {} : parseKeyValueList('variable OTEL_RESOURCE_ATTRIBUTES', ra);
  const serviceName = envValue(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'eunomia';
  delete resourceAttributes['service.name'];

  const events = [...new Set(config.events)];
  const settings: OtelSettings = { alerts: config.alerts, events, intervalMs, exportTimeoutMs, requestTimeoutMs, serviceName, resourceAttributes };
  if (config.metrics) settings.metrics = signalSettings(config, env, 'metrics');
  if (config.alerts || events.length > 0) settings.logs = signalSettings(config, env, 'logs');
  return settings;
}
