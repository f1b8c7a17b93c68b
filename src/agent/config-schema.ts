/**
 * What turns the config's one declaration per key (JSON Schema literals, src/agent/config.ts)
 * into the file's schema, the defaults, the conversion between the file and the typed config,
 * and the documentation's table. Nothing here knows a key: it walks the schemas. Nothing here
 * checks either (src/agent/config-check.ts does, with ajv), so importing it costs nothing.
 *
 * The declaration is written with the code's names (camelCase: `bodyLimitBytes`, what the
 * agent reads); the file's key is their snake_case (`body_limit_bytes`), derived here once.
 * Validation runs on the file's shape, so every error names the key as it is written, and a
 * key written in the code's spelling is unknown, as any other.
 */
import { HTTP_URL_PATTERN } from '../otel/config.js';
import { DURATION_PATTERN, DURATION_WORDS } from '../store/config.js';

/** A JSON Schema node as this file reads it (the subset the declaration uses), with its named check. */
export interface Node {
  type?: string;
  properties?: Readonly<Record<string, Node>>;
  additionalProperties?: boolean;
  items?: Node;
  required?: readonly string[];
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  pattern?: string;
  default?: unknown;
  description?: string;
  check?: string;
}

/** The file's spelling of a declared key: `bodyLimitBytes` → `body_limit_bytes`. */
export function fileKey(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelKey(k: string): string {
  return k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What a `pattern` means, in words, for errors and the docs. */
export const PATTERNS: Record<string, string> = { [HTTP_URL_PATTERN]: 'an http(s) URL', [DURATION_PATTERN]: DURATION_WORDS };

const isTable = (s: Node): s is Node & { properties: Readonly<Record<string, Node>> } => s.type === 'object' && typeof s.properties === 'object';
const isList = (s: Node): s is Node & { items: Node } => s.type === 'array' && typeof s.items === 'object';
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's schema: the same nodes (a copy), with the tables' keys in the file's spelling. */
export function fileSchema(declared: Node): Node {
  const out: Node = { ...declared };
  if ('default' in declared) out.default = toFile(declared, declared.default);
  if (isTable(declared)) {
    const properties: Record<string, Node> = {};
    for (const [k, p] of Object.entries(declared.properties)) {
      const fk = fileKey(k);
      if (k !== camelKey(fk)) throw new Error(`config key ${k} does not survive the file's spelling (${fk})`);
      properties[fk] = fileSchema(p);
    }
    out.properties = properties;
    if (declared.required) out.required = declared.required.map(fileKey);
  }
  if (isList(declared)) out.items = fileSchema(declared.items);
  return out;
}

/** The typed config in the file's shape (declared schema: camelCase keys → snake_case). */
export function toFile(declared: Node, v: unknown): unknown {
  if (isTable(declared) && isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      // A key the declaration lacks keeps its name: the check then calls it unknown.
      const p = declared.properties[k];
      out[fileKey(k)] = p ? toFile(p, x) : x;
    }
    return out;
  }
  if (isList(declared) && Array.isArray(v)) return v.map((x) => toFile(declared.items, x));
  return v;
}

/** A checked file value as the typed config (snake_case keys → camelCase). */
export function toTyped(declared: Node, v: unknown): unknown {
  if (isTable(declared) && isRecord(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(declared.properties)) {
      const x = v[fileKey(k)];
      if (x !== undefined) out[k] = toTyped(p, x);
    }
    return out;
  }
  if (isList(declared) && Array.isArray(v)) return v.map((x) => toTyped(declared.items, x));
  return v;
}

/**
 * `v` with every key its schema gives a default and `v` lacks set to (a copy of) that default,
 * in tables and in the tables of lists, down to the leaves: in place, and returned. A value of
 * the wrong kind is left for the check to name. Walked over the declaration, it gives the
 * typed defaults; over the file's schema, a file's defaults before it is checked.
 */
export function withDefaults(s: Node, v: unknown): unknown {
  if (isTable(s) && isRecord(v)) {
    for (const [k, p] of Object.entries(s.properties)) {
      if (v[k] === undefined && 'default' in p) v[k] = structuredClone(p.default);
      if (v[k] !== undefined) withDefaults(p, v[k]);
    }
  } else if (isList(s) && Array.isArray(v)) {
    for (const x of v) withDefaults(s.items, x);
  }
  return v;
}

/** Stands for a TOML date: no key takes one, and it fails every check (a Date would pass as a table). */
export const DATE = Symbol('a TOML date');

/** A deep copy with plain objects (TOML tables have a null prototype) and dates marked. */
export function plain(v: unknown): unknown {
  if (v instanceof Date) return DATE;
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** A schema as published (the OpenAPI component): plain JSON Schema, the names of checks written as code left out. */
export function published(s: Node): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (k === 'check') continue;
    if (k === 'properties') out[k] = Object.fromEntries(Object.entries(v as Record<string, Node>).map(([p, n]) => [p, published(n)]));
    else if (k === 'items') out[k] = published(v as Node);
    else out[k] = structuredClone(v);
  }
  return out;
}

export function list(items: string[], word: 'or' | 'and'): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} ${word} ${items.at(-1)}`;
}

// ---- the documentation's table ----

/** A value as it is written in TOML. */
export function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  if (isRecord(v)) {
    const entries = Object.entries(v);
    return entries.length ? `{ ${entries.map(([k, x]) => `${k} = ${tomlValue(x)}`).join(', ')} }` : '{}';
  }
  return JSON.stringify(v);
}

function typeText(s: Node): string {
  if (s.enum) return list(s.enum.map((v) => `\`${JSON.stringify(v)}\``), 'or');
  if (isList(s)) return isTable(s.items) ? 'array of tables' : s.items.enum ? `array of ${typeText(s.items)}` : `array of ${typeText(s.items)}s`;
  if (s.type === 'object') return 'table';
  if (s.type === 'string' && s.pattern) return `string: ${PATTERNS[s.pattern] ?? `/${s.pattern}/`}`;
  const base = s.type ?? 'any';
  // Every integer is at most 2^53-1 (a safe integer): not worth a word in the table.
  const max = s.maximum !== undefined && s.maximum !== Number.MAX_SAFE_INTEGER ? `≤ ${s.maximum}` : '';
  const range = [s.minimum !== undefined ? `≥ ${s.minimum}` : '', max].filter(Boolean).join(', ');
  return range ? `${base} ${range}` : base;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown table of every key of the file's schema: key, type, default, what it does. */
export function keyTable(file: Node): string {
  const rows: string[] = ['| key | type | default | what it does |', '|---|---|---|---|'];
  const walk = (s: Node, prefix: string): void => {
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      const key = prefix + k;
      const def = p.default === undefined || (isTable(p) && isRecord(p.default) && Object.keys(p.default).length === 0) ? '' : `\`${tomlValue(p.default)}\``;
      rows.push(`| \`${key}\` | ${cell(typeText(p))} | ${cell(def)} | ${cell(p.description ?? '')} |`);
      if (isTable(p)) walk(p, `${key}.`);
      else if (isList(p) && isTable(p.items)) walk(p.items, `${key}[].`);
    }
  };
  walk(file, '');
  return rows.join('\n');
}
