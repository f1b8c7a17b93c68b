/**
 * `eunomia server` configuration: a TOML or JSON file, then command-line flags over it.
 * Every key is checked; an unknown or wrong-typed key is an error naming it, never ignored.
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { parseFormat, type Format } from '../exporters/index.js';
import { resolveOptions } from '../runtime/options.js';
import { findTracker } from '../trackers/registry.js';
import type { OptionValues } from '../runtime/types.js';

export interface TrackerConfig {
  name: string;
  options: OptionValues;
}

export interface ServerConfig {
  /** host:port of the control API. */
  listen: string;
  /** Where GET /metrics (Prometheus) is served; "off" for nowhere. */
  metricsListen: string;
  /** Bearer token; required when `listen` is not loopback. */
  token?: string;
  tokenFile?: string;
  tls?: { key: string; cert: string };
  /** Largest request body accepted (a hot-loaded object is sent base64 inside JSON). */
  bodyLimitBytes: number;
  /** Attribute events to containers. */
  containers: boolean;
  /** Trackers started with the agent. */
  trackers: TrackerConfig[];
  /** Also write every event to stdout or a file (the API streams them regardless). */
  output?: { format: Format; path?: string };
  hotload: { maxObjectBytes: number; allowProgramTypes?: string[] };
  /** The security analyzer: rules run on every event; alerts to the log, a file, a webhook. */
  rules: RulesConfig;
  /** Metric families of the trackers' events (Prometheus, and OTLP when on). */
  metrics: MetricsConfig;
  /** OpenTelemetry export (OTLP); OTEL_EXPORTER_OTLP_* variables fill in what is not set here. */
  otel: OtelConfig;
}

export interface MetricsConfig {
  /** Series per metric family; label sets beyond it are folded into one overflow series. */
  maxSeries: number;
  /** A series not updated for this long is dropped (containers come and go). */
  seriesTtlMs: number;
  /**
   * Per-program CPU time of the eBPF programs: turns on the kernel's BPF run-time stats while
   * the agent runs. Off by default: they add ~80 ns to every program run on the host.
   */
  bpfStats: boolean;
}

export type OtlpProtocol = 'http/protobuf' | 'grpc';

export interface OtelConfig {
  /** Unset: on when an endpoint is given here or in OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variables). */
  enabled?: boolean;
  /** Base URL of the collector; default from the environment, else the OTLP default for the protocol. */
  endpoint?: string;
  /** Default from OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf. */
  protocol?: OtlpProtocol;
  /** Export the metrics (those of /metrics). */
  metrics: boolean;
  /** Security alerts as OTLP log records. */
  alerts: boolean;
  /** Trackers whose events also go as OTLP log records. */
  events: string[];
  /** Metric export interval; default from OTEL_METRIC_EXPORT_INTERVAL, else 60 s. */
  intervalMs?: number;
}

export interface RulesConfig {
  enabled: boolean;
  /** Rule files or directories, after the built-in rules (later ones may override). */
  files: string[];
  /** Rule ids turned off. */
  disable: string[];
  /** Also start the trackers the enabled rules need (`eunomia server`; not with --no-trackers). */
  trackers: boolean;
  /** Alerts as JSON lines appended to this file. */
  alertFile?: string;
  /** Alerts POSTed as JSON to this URL. */
  webhook?: string;
  /** Per rule and container: alerts let through at once, then one per interval. */
  burst: number;
  intervalMs: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:8527';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:8528';
export const DEFAULT_TRACKERS = ['process', 'files', 'tcpconnect'];

export function defaultConfig(): ServerConfig {
  return {
    listen: DEFAULT_LISTEN,
    metricsListen: DEFAULT_METRICS_LISTEN,
    bodyLimitBytes: 16 * 1024 * 1024,
    containers: true,
    trackers: DEFAULT_TRACKERS.map((name) => ({ name, options: {} })),
    hotload: { maxObjectBytes: 8 * 1024 * 1024 },
    rules: { enabled: true, files: [], disable: [], trackers: true, burst: 5, intervalMs: 10_000 },
    metrics: { maxSeries: 10_000, seriesTtlMs: 3_600_000, bpfStats: false },
    otel: { metrics: true, alerts: true, events: [] },
  };
}

type Kind = 'string' | 'boolean' | 'integer' | 'string[]' | 'table' | 'table[]';

/** The schema: file key → kind. Nested tables list their own keys. */
const SCHEMA: Record<string, Kind> = {
  listen: 'string',
  metrics_listen: 'string',
  token: 'string',
  token_file: 'string',
  tls: 'table',
  'tls.key': 'string',
  'tls.cert': 'string',
  body_limit_bytes: 'integer',
  containers: 'boolean',
  trackers: 'table[]',
  'trackers[].name': 'string',
  'trackers[].options': 'table', // checked against the tracker's own options
  output: 'table',
  'output.format': 'string',
  'output.path': 'string',
  hotload: 'table',
  'hotload.max_object_bytes': 'integer',
  'hotload.allow_program_types': 'string[]',
  rules: 'table',
  'rules.enabled': 'boolean',
  'rules.files': 'string[]',
  'rules.disable': 'string[]',
  'rules.trackers': 'boolean',
  'rules.alert_file': 'string',
  'rules.webhook': 'string',
  'rules.burst': 'integer',
  'rules.interval_ms': 'integer',
  metrics: 'table',
  'metrics.max_series': 'integer',
  'metrics.series_ttl_ms': 'integer',
  'metrics.bpf_stats': 'boolean',
  otel: 'table',
  'otel.enabled': 'boolean',
  'otel.endpoint': 'string',
  'otel.protocol': 'string',
  'otel.metrics': 'boolean',
  'otel.alerts': 'boolean',
  'otel.events': 'string[]',
  'otel.interval_ms': 'integer',
};

function configError(source: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.CONFIG, `config ${source}: ${msg}`);
}

function kindOf(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object') return 'a table';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

function checkKind(source: string, key: string, v: unknown, kind: Kind): void {
  const ok =
    kind === 'string' ? typeof v === 'string'
    : kind === 'boolean' ? typeof v === 'boolean'
    : kind === 'integer' ? (typeof v === 'number' || typeof v === 'bigint') && Number.isSafeInteger(Number(v)) && Number(v) >= 0
    : kind === 'string[]' ? Array.isArray(v) && v.every((x) => typeof x === 'string')
    : kind === 'table' ? typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date)
    : Array.isArray(v) && v.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x));
  if (!ok) {
    const want = { string: 'a string', boolean: 'true or false', integer: 'a non-negative integer', 'string[]': 'an array of strings', table: 'a table', 'table[]': 'an array of tables' }[kind];
    throw configError(source, `key "${key}" must be ${want}, got ${kindOf(v)}`);
  }
}

/** Walks a table against SCHEMA: unknown keys and wrong types are errors naming the key. */
function checkTable(source: string, table: Record<string, unknown>, prefix: string): void {
  // Schema keys of this table: "trackers.3" is "trackers[]" in the schema.
  const at = prefix ? `${prefix.replace(/^trackers\.\d+/, 'trackers[]')}.` : '';
  for (const [k, v] of Object.entries(table)) {
    const key = prefix ? `${prefix}.${k}` : k;
    const kind = SCHEMA[at + k];
    if (!kind) {
      const known = Object.keys(SCHEMA).filter((s) => s.startsWith(at) && !/[.[]/.test(s.slice(at.length)));
      throw configError(source, `unknown key "${key}" (known here: ${known.map((s) => s.slice(at.length)).join(', ')})`);
    }
    checkKind(source, key, v, kind);
    if (kind === 'table' && at + k !== 'trackers[].options') checkTable(source, v as Record<string, unknown>, key);
    if (kind === 'table[]') (v as Record<string, unknown>[]).forEach((t, i) => checkTable(source, t, `${key}.${i}`));
  }
}

/** Parses file text by extension (.toml, .json), or by sniffing when there is none. */
export function parseConfigText(text: string, source: string): Record<string, unknown> {
  const json = source.endsWith('.json') || (!source.endsWith('.toml') && text.trimStart().startsWith('{'));
  try {
    const v = json ? (JSON.parse(text) as unknown) : parseToml(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('the top level must be a table (an object)');
    return v as Record<string, unknown>;
  } catch (e) {
    throw configError(source, `not valid ${json ? 'JSON' : 'TOML'}: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** A checked config from a parsed file (over the defaults). */
export function configFrom(raw: Record<string, unknown>, source: string): ServerConfig {
  checkTable(source, raw, '');
  const cfg = defaultConfig();
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  if (raw.listen !== undefined) cfg.listen = str(raw.listen)!;
  if (raw.metrics_listen !== undefined) cfg.metricsListen = str(raw.metrics_listen)!;
  if (raw.token !== undefined) cfg.token = str(raw.token)!;
  if (raw.token_file !== undefined) cfg.tokenFile = str(raw.token_file)!;
  if (raw.tls !== undefined) {
    const t = raw.tls as Record<string, unknown>;
    if (typeof t.key !== 'string' || typeof t.cert !== 'string') throw configError(source, 'key "tls" needs both "key" and "cert" (PEM file paths)');
    cfg.tls = { key: t.key, cert: t.cert };
  }
  if (raw.body_limit_bytes !== undefined) cfg.bodyLimitBytes = Number(raw.body_limit_bytes);
  if (raw.containers !== undefined) cfg.containers = raw.containers as boolean;
  if (raw.trackers !== undefined) {
    cfg.trackers = (raw.trackers as Record<string, unknown>[]).map((t, i) => {
      if (typeof t.name !== 'string') throw configError(source, `key "trackers.${i}.name" is missing`);
      // TOML tables come with a null prototype: copy into a plain object.
      return { name: t.name, options: { ...(t.options ?? {}) } as OptionValues };
    });
  }
  if (raw.output !== undefined) {
    const o = raw.output as Record<string, unknown>;
    cfg.output = { format: parseFormatIn(source, o.format ?? 'json') };
    if (o.path !== undefined) cfg.output.path = o.path as string;
  }
  if (raw.hotload !== undefined) {
    const h = raw.hotload as Record<string, unknown>;
    if (h.max_object_bytes !== undefined) cfg.hotload.maxObjectBytes = Number(h.max_object_bytes);
    if (h.allow_program_types !== undefined) cfg.hotload.allowProgramTypes = h.allow_program_types as string[];
  }
  if (raw.rules !== undefined) {
    const r = raw.rules as Record<string, unknown>;
    if (r.enabled !== undefined) cfg.rules.enabled = r.enabled as boolean;
    if (r.files !== undefined) cfg.rules.files = r.files as string[];
    if (r.disable !== undefined) cfg.rules.disable = r.disable as string[];
    if (r.trackers !== undefined) cfg.rules.trackers = r.trackers as boolean;
    if (r.alert_file !== undefined) cfg.rules.alertFile = r.alert_file as string;
    if (r.webhook !== undefined) cfg.rules.webhook = r.webhook as string;
    if (r.burst !== undefined) cfg.rules.burst = Number(r.burst);
    if (r.interval_ms !== undefined) cfg.rules.intervalMs = Number(r.interval_ms);
  }
  if (raw.metrics !== undefined) {
    const m = raw.metrics as Record<string, unknown>;
    if (m.max_series !== undefined) cfg.metrics.maxSeries = Number(m.max_series);
    if (m.series_ttl_ms !== undefined) cfg.metrics.seriesTtlMs = Number(m.series_ttl_ms);
    if (m.bpf_stats !== undefined) cfg.metrics.bpfStats = m.bpf_stats as boolean;
  }
  if (raw.otel !== undefined) {
    const o = raw.otel as Record<string, unknown>;
    if (o.enabled !== undefined) cfg.otel.enabled = o.enabled as boolean;
    if (o.endpoint !== undefined) cfg.otel.endpoint = o.endpoint as string;
    if (o.protocol !== undefined) cfg.otel.protocol = o.protocol as OtlpProtocol;
    if (o.metrics !== undefined) cfg.otel.metrics = o.metrics as boolean;
    if (o.alerts !== undefined) cfg.otel.alerts = o.alerts as boolean;
    if (o.events !== undefined) cfg.otel.events = o.events as string[];
    if (o.interval_ms !== undefined) cfg.otel.intervalMs = Number(o.interval_ms);
  }
  return checkConfig(cfg, source);
}

function parseFormatIn(source: string, v: unknown): Format {
  try {
    return parseFormat(String(v));
  } catch (e) {
    throw configError(source, `key "output.format": ${(e as Error).message}`);
  }
}

/** Checks what the schema cannot: listen syntax, trackers and their options, limits. */
export function checkConfig(cfg: ServerConfig, source: string): ServerConfig {
  parseListen(cfg.listen, source);
  if (cfg.metricsListen !== 'off') parseListen(cfg.metricsListen, source);
  if (cfg.bodyLimitBytes < 1024) throw configError(source, `key "body_limit_bytes" must be at least 1024, got ${cfg.bodyLimitBytes}`);
  if (cfg.hotload.maxObjectBytes < 1024) throw configError(source, `key "hotload.max_object_bytes" must be at least 1024, got ${cfg.hotload.maxObjectBytes}`);
  if (cfg.rules.webhook !== undefined && !/^https?:\/\/\S+$/.test(cfg.rules.webhook)) throw configError(source, `key "rules.webhook" must be an http(s) URL, got "${cfg.rules.webhook}"`);
  if (cfg.rules.burst < 1) throw configError(source, `key "rules.burst" must be at least 1, got ${cfg.rules.burst}`);
  if (cfg.metrics.maxSeries < 1) throw configError(source, `key "metrics.max_series" must be at least 1, got ${cfg.metrics.maxSeries}`);
  if (cfg.metrics.seriesTtlMs < 1000) throw configError(source, `key "metrics.series_ttl_ms" must be at least 1000, got ${cfg.metrics.seriesTtlMs}`);
  if (cfg.otel.protocol !== undefined && cfg.otel.protocol !== 'http/protobuf' && cfg.otel.protocol !== 'grpc') {
    throw configError(source, `key "otel.protocol" must be "http/protobuf" or "grpc", got "${String(cfg.otel.protocol)}"`);
  }
  if (cfg.otel.endpoint !== undefined && !/^https?:\/\/\S+$/.test(cfg.otel.endpoint)) throw configError(source, `key "otel.endpoint" must be an http(s) URL, got "${cfg.otel.endpoint}"`);
  if (cfg.otel.intervalMs !== undefined && cfg.otel.intervalMs < 100) throw configError(source, `key "otel.interval_ms" must be at least 100, got ${cfg.otel.intervalMs}`);
  cfg.otel.events.forEach((name, i) => {
    try {
      findTracker(name);
    } catch (e) {
      throw configError(source, `otel.events.${i}: ${(e as Error).message}`);
    }
  });
  cfg.trackers.forEach((t, i) => {
    try {
      resolveOptions(findTracker(t.name), t.options, process.pid);
    } catch (e) {
      throw configError(source, `trackers.${i} (${t.name}): ${(e as Error).message}`);
    }
  });
  return cfg;
}

/** Reads a config file. */
export function loadConfig(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError(path, `cannot be read: ${(e as Error).message}`);
  }
  return configFrom(parseConfigText(text, path), path);
}

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseListen(s: string, source = '--listen'): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw configError(source, `listen address "${s}" is not host:port (e.g. 127.0.0.1:8527, [::1]:8527, 0.0.0.0:8527)`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port, loopback: isLoopback(host) };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
