/**
 * `eunomia server` configuration: a TOML or JSON file, then command-line flags over it.
 *
 * Each key is declared once, below, as a plain JSON Schema literal: its type, default, check
 * and description. From that declaration come the TypeScript types (ServerConfig …, by
 * json-schema-to-ts, at compile time only), the defaults, the checks and their errors (each
 * naming the key as the file writes it: an unknown or wrong-typed key is an error, never
 * ignored), the table in docs/server.md and the `ServerConfig` component of the OpenAPI
 * document. Keys are declared in camelCase, as the code reads them; the file writes them in
 * snake_case (src/agent/config-schema.ts). What JSON Schema cannot say about a key, its
 * `check` names (CheckName).
 *
 * Importing this file costs nothing at run time (every command does: the CLI reads its
 * defaults): the declaration is object literals. Reading and checking a file is
 * src/agent/config-load.ts (ajv, the tracker catalogue, TOML); the original Eunomia's keys are
 * src/agent/config-original.ts.
 */
import type { ExtendedJSONSchema, FromSchema } from 'json-schema-to-ts';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import type { Format } from '../exporters/index.js';
import { PROGRAM_TYPES } from '../hotload/limits.js';
import { HTTP_URL_PATTERN, OTEL_CONFIG_SCHEMA } from '../otel/config.js';
import { STORE_CONFIG_SCHEMA } from '../store/config.js';
import type { OptionValues } from '../runtime/types.js';
import { fileSchema, published, withDefaults, type Node } from './config-schema.js';

export type { OtelConfig, OtlpProtocol } from '../otel/config.js';

export const DEFAULT_LISTEN = '127.0.0.1:8527';
export const DEFAULT_METRICS_LISTEN = '127.0.0.1:8528';
export const DEFAULT_TRACKERS = ['process', 'files', 'tcpconnect'];

/**
 * What JSON Schema cannot say about a key, by the name its `check` gives; the code of each is
 * in src/agent/config-check.ts (it needs the tracker catalogue, which loading a config pays
 * for, not importing this file). A check sees a value of the key's declared type.
 * - `tracker`: a tracker of the catalogue, by name;
 * - `trackerOptions`: a tracker's options, checked as that tracker checks them (the error
 *   names the tracker's entry, whose name it needs);
 * - `listen`: host:port, [v6]:port or :port; `listenOrOff`: that, or "off";
 * - `outputFormat`: plain, json or csv, or the original's names of them (read as these: the
 *   typed config holds a Format);
 * - `formatOrNone`: an output format, or "none" (the original's `fmt`).
 */
export type CheckName = 'tracker' | 'trackerOptions' | 'listen' | 'listenOrOff' | 'outputFormat' | 'formatOrNone';

/** A node of the config's declaration: JSON Schema, and the name of a check written as code. */
export type ConfigSchema = ExtendedJSONSchema<{ check: CheckName }>;

/** Every integer key is also a safe integer (JSON reads 1e300 as an integer). */
const MAX_INT = Number.MAX_SAFE_INTEGER;

/** A tracker of the catalogue, by name. */
const TRACKER_NAME = { type: 'string', check: 'tracker', description: 'the tracker (`eunomia trackers` lists them)' } as const satisfies ConfigSchema;

/** `[[trackers]]`: one tracker to start. */
const TRACKER = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: TRACKER_NAME,
    options: { type: 'object', default: {}, check: 'trackerOptions', description: "the tracker's options by name (GET /trackers lists them), checked as the tracker checks them" },
  },
} as const satisfies ConfigSchema;

/** `[tls]` */
const TLS = {
  type: 'object',
  additionalProperties: false,
  required: ['key', 'cert'],
  description: 'serve HTTPS',
  properties: {
    key: { type: 'string', description: 'PEM key file' },
    cert: { type: 'string', description: 'PEM certificate file' },
  },
} as const satisfies ConfigSchema;

/** `[output]` */
const OUTPUT = {
  type: 'object',
  additionalProperties: false,
  description: 'also print every event (the API streams them regardless)',
  properties: {
    format: { type: 'string', default: 'json', check: 'outputFormat', description: 'plain, json or csv (the original names plain_text, json_format too)' },
    path: { type: 'string', description: 'the file events are appended to; default: stdout' },
  },
} as const satisfies ConfigSchema;

/** `[hotload]` */
const HOTLOAD = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'what hot-loaded programs may be',
  properties: {
    maxObjectBytes: { type: 'integer', minimum: 1024, maximum: MAX_INT, default: 8 * 1024 * 1024, description: 'largest hot-loaded ELF object, in bytes (docs/hotload.md)' },
    allowProgramTypes: {
      type: 'array',
      items: { type: 'string', enum: PROGRAM_TYPES },
      description: 'program kinds a hot-loaded package may contain; default tracepoint, raw_tracepoint, tp_btf, uprobe, perf_event',
    },
  },
} as const satisfies ConfigSchema;

/** `[rules]` */
const RULES = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'the security analyzer: rules on every event; alerts to the log, a file, a webhook (docs/rules.md)',
  properties: {
    enabled: { type: 'boolean', default: true, description: 'run the security rules on every event (--no-safe: off)' },
    files: { type: 'array', items: { type: 'string' }, default: [], description: 'rule files or directories, after the built-in rules (later ones may override)' },
    disable: { type: 'array', items: { type: 'string' }, default: [], description: 'rule ids turned off' },
    trackers: { type: 'boolean', default: true, description: 'also start the trackers the enabled rules need (not with --no-trackers)' },
    alertFile: { type: 'string', description: 'alerts as JSON lines appended to this file' },
    webhook: { type: 'string', pattern: HTTP_URL_PATTERN, description: 'alerts POSTed as JSON to this URL' },
    burst: { type: 'integer', minimum: 1, maximum: MAX_INT, default: 5, description: 'per rule and container: alerts let through at once, then one per interval' },
    intervalMs: { type: 'integer', minimum: 0, maximum: MAX_INT, default: 10_000, description: 'that interval, in ms' },
  },
} as const satisfies ConfigSchema;

/** `[metrics]` */
const METRICS = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: "metric families of the trackers' events (Prometheus, and OTLP when on; docs/metrics.md)",
  properties: {
    maxSeries: { type: 'integer', minimum: 1, maximum: MAX_INT, default: 10_000, description: 'series per metric family; more label sets fold into one overflow series (counted)' },
    seriesTtlMs: { type: 'integer', minimum: 1000, maximum: MAX_INT, default: 3_600_000, description: 'a series not updated for this long is dropped (containers come and go)' },
    bpfStats: { type: 'boolean', default: false, description: "per-program eBPF CPU time: turns on the kernel's BPF run-time stats while the agent runs (~80 ns more per program run on the host)" },
    originalNames: { type: 'boolean', default: false, description: "also the original Eunomia's metric families, under its names (eunomia_observed_*), for dashboards made for it (docs/metrics.md)" },
  },
} as const satisfies ConfigSchema;

/** `[otel]`: OTLP export's own table (src/otel/config.ts), its `events` checked against the catalogue here. */
const OTEL = {
  ...OTEL_CONFIG_SCHEMA,
  properties: { ...OTEL_CONFIG_SCHEMA.properties, events: { ...OTEL_CONFIG_SCHEMA.properties.events, items: TRACKER_NAME } },
} as const satisfies ConfigSchema;

/** `[store]`: the event store's own table (src/store/config.ts), its `trackers` checked against the catalogue here. */
const STORE = {
  ...STORE_CONFIG_SCHEMA,
  properties: { ...STORE_CONFIG_SCHEMA.properties, trackers: { ...STORE_CONFIG_SCHEMA.properties.trackers, items: TRACKER_NAME } },
} as const satisfies ConfigSchema;

/** The whole config: every key, once. */
export const ServerConfigSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'The `eunomia server` config file (TOML or JSON; docs/server.md). Flags override it.',
  properties: {
    listen: { type: 'string', default: DEFAULT_LISTEN, check: 'listen', description: 'host:port of the control API: host:port, [v6]:port, or :port (all interfaces: needs a token)' },
    metricsListen: { type: 'string', default: DEFAULT_METRICS_LISTEN, check: 'listenOrOff', description: 'where GET /metrics (Prometheus) is served; "off" for nowhere' },
    token: { type: 'string', description: 'bearer token (at least 16 characters); required when `listen` is not loopback' },
    tokenFile: { type: 'string', description: 'the same, read from this file' },
    tls: TLS,
    bodyLimitBytes: { type: 'integer', minimum: 1024, maximum: MAX_INT, default: 16 * 1024 * 1024, description: 'largest request body accepted (a hot-loaded object is sent base64 inside JSON)' },
    containers: { type: 'boolean', default: true, description: 'attribute events to containers' },
    trackers: { type: 'array', items: TRACKER, default: DEFAULT_TRACKERS.map((name) => ({ name })), description: 'trackers started with the agent (a list given here replaces the defaults)' },
    output: OUTPUT,
    hotload: HOTLOAD,
    rules: RULES,
    metrics: METRICS,
    otel: OTEL,
    store: STORE,
  },
} as const satisfies ConfigSchema;

/**
 * The config after defaults (a key with a default is always there), as the code reads it: the
 * schema's type, where a check decodes (`outputFormat`: a Format) or the schema says only
 * "a table" (`trackerOptions`: the tracker's OptionValues).
 */
export type ServerConfig = FromSchema<
  typeof ServerConfigSchema,
  { deserialize: [{ pattern: { check: 'outputFormat' }; output: Format }, { pattern: { check: 'trackerOptions' }; output: OptionValues }] }
>;
export type TrackerConfig = ServerConfig['trackers'][number];
export type MetricsConfig = ServerConfig['metrics'];
export type RulesConfig = ServerConfig['rules'];
export type StoreSection = ServerConfig['store'];

/** The defaults: an empty file's config (a fresh copy each time). */
export function defaultConfig(): ServerConfig {
  return withDefaults(ServerConfigSchema, {}) as ServerConfig;
}

/** The config file's schema (snake_case keys, defaults, descriptions; checked by src/agent/config-check.ts). */
export function configFileSchema(): Node {
  return fileSchema(ServerConfigSchema);
}

/** The config file's JSON Schema (snake_case keys, defaults, descriptions): the OpenAPI component. */
export function configJsonSchema(): Record<string, unknown> {
  return published(configFileSchema());
}

export function configError(source: string, msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.CONFIG, `config ${source}: ${msg}`);
}

const LISTEN_EXAMPLES = 'e.g. 127.0.0.1:8527, [::1]:8527, 0.0.0.0:8527';

export interface ListenAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** "host:port", "[v6]:port" or ":port" (all interfaces); a plain Error naming the address otherwise. */
export function listenAddress(s: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`listen address "${s}" is not host:port (${LISTEN_EXAMPLES})`);
  const host = m[1] ?? (m[2] || '0.0.0.0');
  return { host, port, loopback: isLoopback(host) };
}

/** "host:port", "[v6]:port" or ":port" (all interfaces). */
export function parseListen(s: string, source = '--listen'): ListenAddress {
  try {
    return listenAddress(s);
  } catch (e) {
    throw configError(source, (e as Error).message);
  }
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
