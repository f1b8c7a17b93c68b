/**
 * The `[otel]` table of the agent's config, declared once as a JSON Schema literal: each key's
 * type, default, check and description. The agent's config (src/agent/config.ts) composes it;
 * the TypeScript type (json-schema-to-ts, types only), the defaults, the errors,
 * docs/server.md's table and the OpenAPI component all come from here. Keys are written in
 * camelCase; the file's keys are their snake_case (`intervalMs` is `interval_ms`).
 *
 * Importing this file costs nothing at run time: it is an object literal.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/** An http(s) URL; the config's errors and docs say so in words (src/agent/config-check.ts). */
export const HTTP_URL_PATTERN = '^https?://\\S+$';

/**
 * The table. Its `events` are tracker names, which the agent checks against its catalogue
 * (the catalogue is the agent's to know, not OTLP export's).
 */
export const OTEL_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'OpenTelemetry export (OTLP, docs/otel.md); OTEL_EXPORTER_OTLP_* variables fill in what is not set here',
  properties: {
    enabled: { type: 'boolean', description: 'unset: on when an endpoint is given here or in OTEL_EXPORTER_OTLP_ENDPOINT (or the per-signal variables)' },
    endpoint: { type: 'string', pattern: HTTP_URL_PATTERN, description: 'base URL of the collector; default from the environment, else the OTLP default for the protocol (http://localhost:4318, gRPC :4317)' },
    protocol: { type: 'string', enum: ['http/protobuf', 'grpc'], description: 'default from OTEL_EXPORTER_OTLP_PROTOCOL, else http/protobuf' },
    metrics: { type: 'boolean', default: true, description: 'export the metrics (those of GET /metrics)' },
    alerts: { type: 'boolean', default: true, description: 'security alerts as OTLP log records' },
    events: { type: 'array', items: { type: 'string' }, default: [], description: 'trackers whose events also go as OTLP log records' },
    intervalMs: { type: 'integer', minimum: 100, maximum: Number.MAX_SAFE_INTEGER, description: 'metric export interval; default from OTEL_METRIC_EXPORT_INTERVAL, else 60000' },
  },
} as const satisfies JSONSchema;

/** The `[otel]` table after defaults (a key with a default is always there). */
export type OtelConfig = FromSchema<typeof OTEL_CONFIG_SCHEMA>;
export type OtlpProtocol = NonNullable<OtelConfig['protocol']>;
