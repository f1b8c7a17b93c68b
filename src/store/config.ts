/**
 * The `[store]` table of the agent's config, declared once as a JSON Schema literal (as
 * `[otel]` is, src/otel/config.ts): the agent's config (src/agent/config.ts) composes it, and
 * the types, defaults, errors, docs/server.md's table and the OpenAPI component come from it.
 * Keys are written in camelCase; the file's keys are their snake_case. What the store itself
 * takes is `StoreOptions` (storeOptions): numbers, not the file's words.
 *
 * Importing this file costs nothing at run time: object literals and two small functions.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import { EunomiaError, ErrorCodes } from '../core/errors.js';

/** A time-to-live: seconds, or a number with a unit (90s, 15m, 24h, 7d). */
export const DURATION_PATTERN = '^[1-9][0-9]{0,9}[smhd]?$';
export const DURATION_WORDS = 'a duration: seconds, or a number with s, m, h or d (90s, 15m, 24h, 7d)';

export const DEFAULT_STORE_PATH = '/var/lib/eunomia/events.db';

const MAX_INT = Number.MAX_SAFE_INTEGER;

/** One kind's bounds: whichever is reached first evicts the oldest rows. */
function limits(kind: string, rows: number, bytes: number, ttl: string) {
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      maxRows: { type: 'integer', minimum: 1, maximum: MAX_INT, default: rows, description: `${kind} kept at most; past it the oldest are evicted (counted)` },
      maxBytes: { type: 'integer', minimum: 4096, maximum: MAX_INT, default: bytes, description: `bytes of ${kind} (their JSON) kept at most; past it the oldest are evicted (counted)` },
      ttl: { type: 'string', pattern: DURATION_PATTERN, default: ttl, description: `${kind} older than this are evicted (counted): seconds, or 90s, 15m, 24h, 7d` },
    },
  } as const;
}

const EVENT_LIMITS = limits('events', 1_000_000, 512 * 1024 * 1024, '7d');
const ALERT_LIMITS = limits('alerts', 100_000, 64 * 1024 * 1024, '30d');

/**
 * The table. Its `trackers` are tracker names, which the agent checks against its catalogue
 * (src/agent/config.ts gives them the catalogue's check).
 */
export const STORE_CONFIG_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  default: {},
  description: 'the event store: alerts, and events of the trackers chosen, in an SQLite database the query API reads (docs/store.md)',
  properties: {
    enabled: { type: 'boolean', default: true, description: 'keep the store (--no-store: off)' },
    path: { type: 'string', default: DEFAULT_STORE_PATH, description: 'the database file (--store PATH); its directory is made with mode 0700, the file with 0600' },
    trackers: { type: 'array', items: { type: 'string' }, default: ['process'], description: 'trackers whose events are stored (a timed instance\'s are, whatever its tracker)' },
    events: { ...EVENT_LIMITS, description: 'bounds of the stored events' },
    alerts: {
      ...ALERT_LIMITS,
      description: 'the stored alerts and their bounds',
      properties: { enabled: { type: 'boolean', default: true, description: 'store every alert' }, ...ALERT_LIMITS.properties },
    },
  },
} as const satisfies JSONSchema;

/** The `[store]` table after defaults. */
export type StoreConfig = FromSchema<typeof STORE_CONFIG_SCHEMA>;

/** One kind's bounds, as the store applies them. */
export interface KindLimits {
  maxRows: number;
  maxBytes: number;
  ttlMs: number;
}

/** What the store is opened with. */
export interface StoreOptions {
  path: string;
  /** Trackers whose events are stored. */
  trackers: readonly string[];
  /** Store alerts (Agent: when rules are on). */
  alerts: boolean;
  events: KindLimits;
  alertLimits: KindLimits;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "15m", "24h", "7d", or seconds ("3600") → ms; an E_CONFIG error otherwise. */
export function parseDuration(text: string, key = 'ttl'): number {
  const m = /^([1-9][0-9]{0,9})([smhd]?)$/.exec(text);
  if (!m) throw new EunomiaError(ErrorCodes.CONFIG, `${key} must be ${DURATION_WORDS}, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] || 's']!;
}

/**
 * What the file may write shorter, made the declared form before the file is checked, in place
 * on the file's table: a TTL as a number is seconds (`ttl = 3600` is `ttl = "3600"`), and
 * `alerts = false` is `alerts.enabled = false`.
 */
export function storeShorthands(raw: Record<string, unknown>): void {
  const store = raw.store;
  if (!isTable(store)) return;
  if (typeof store.alerts === 'boolean') store.alerts = { enabled: store.alerts };
  for (const kind of ['events', 'alerts']) {
    const t = store[kind];
    if (isTable(t) && typeof t.ttl === 'number') t.ttl = String(t.ttl);
  }
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The checked `[store]` table as the store takes it. */
export function storeOptions(c: StoreConfig): StoreOptions {
  const kind = (k: { maxRows: number; maxBytes: number; ttl: string }, key: string): KindLimits => ({ maxRows: k.maxRows, maxBytes: k.maxBytes, ttlMs: parseDuration(k.ttl, key) });
  return { path: c.path, trackers: c.trackers, alerts: c.alerts.enabled, events: kind(c.events, 'store.events.ttl'), alertLimits: kind(c.alerts, 'store.alerts.ttl') };
}
