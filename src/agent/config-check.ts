/**
 * The config's checks: its file schema (src/agent/config.ts in the file's spelling) checked by
 * ajv (the ajv Fastify uses), then the checks written as code that a key names by its `check`,
 * and the first error in words naming the key as the file writes it.
 *
 * ajv's code for the schemas is made at build time (scripts/config-validators.js writes
 * dist/config-validators.cjs): compiling it took `eunomia server` ~30 ms at each start. A schema
 * that file does not hold (an edited one, before the build) is compiled here, with ajv loaded
 * then: the two give the same answers, from the same schema.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { parseFormat } from '../exporters/index.js';
import { resolveOptions } from '../runtime/options.js';
import { findTracker } from '../trackers/registry.js';
import type { OptionValues } from '../runtime/types.js';
import { listenAddress, type CheckName } from './config.js';
import { DATE, list, PATTERNS, type Node } from './config-schema.js';

interface Check {
  /** Throws an Error whose message is the key's error; `table` is the table that holds the key. */
  check: (value: never, table: Record<string, unknown>) => unknown;
  /** What `check` returns is the value the typed config holds. */
  decodes?: true;
  /** The error names the table that holds the key, not the key. */
  namesTable?: true;
}

/** The code of each check a key may name (src/agent/config.ts says what each is for). */
const CHECKS: Record<CheckName, Check> = {
  tracker: { check: (name: string) => findTracker(name) },
  // The options against the tracker's own. Its name was checked already (`name` comes before
  // `options` in the entry, and the first error stops the check), so it is in the catalogue.
  trackerOptions: { namesTable: true, check: (options: OptionValues, tracker) => resolveOptions(findTracker(String(tracker.name)), options, process.pid) },
  listen: { check: (s: string) => listenAddress(s) },
  listenOrOff: { check: (s: string) => s === 'off' || listenAddress(s) },
  outputFormat: { decodes: true, check: (f: string) => parseFormat(f) },
  formatOrNone: { check: (f: string) => f === 'none' || parseFormat(f) },
};

/** JSON Pointer escaping of one key, as ajv writes instance paths. */
const pointer = (key: string | number): string => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;

/**
 * The checks of a value that met its schema (so each sees a value of its declared type): in
 * the schema's order, a key's own check after those inside it, as ajv ran them when they were
 * its keyword; the first that fails, as an ajv error. Checks that decode rewrite the value.
 */
function runChecks(schema: Node, value: unknown, table: Record<string, unknown>, key: string | number, path: string): ErrorObject | undefined {
  if (schema.properties && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const t = value as Record<string, unknown>;
    for (const [k, s] of Object.entries(schema.properties)) {
      const e = k in t ? runChecks(s, t[k], t, k, path + pointer(k)) : undefined;
      if (e) return e;
    }
  } else if (schema.items && Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e = runChecks(schema.items, value[i], value as unknown as Record<string, unknown>, i, path + pointer(i));
      if (e) return e;
    }
  }
  if (schema.check === undefined) return undefined;
  const c = CHECKS[schema.check as CheckName];
  try {
    const out = c.check(value as never, table);
    if (c.decodes) table[key] = out;
    return undefined;
  } catch (e) {
    return { keyword: 'check', message: (e as Error).message, params: { check: schema.check }, instancePath: c.namesTable ? path.slice(0, path.lastIndexOf('/')) : path, schemaPath: '' };
  }
}

/** The schema as ajv checks it: without the `check` keys (runChecks runs them). */
export function ajvSchema(s: Node): Node {
  const { check: _, ...out } = s;
  if (s.properties) out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, p]) => [k, ajvSchema(p)]));
  if (s.items) out.items = ajvSchema(s.items);
  return out;
}

type AjvClass = new (opts: object) => Ajv;

/** ajv's options for the config's schemas; `source` keeps the code, for the build's file. */
export function ajvOptions(source = false): object {
  return {
    allErrors: false, // the first problem is the one said
    verbose: true, // errors carry the data and the schema that failed: the words need them
    strict: true,
    // The schemas are literals the compiler already checks against JSON Schema (ConfigSchema):
    // checking them again against the meta-schema would only cost the compile.
    validateSchema: false,
    // A config is checked once or twice: optimizing the generated code costs more than it saves.
    code: { optimize: false, source },
  };
}

let ajv: Ajv | undefined;
let preloaded: AjvClass | undefined;

/**
 * Loads ajv ahead of a check that must compile its schema, where the caller can wait: in the
 * CLI's bundle it is part of the bundle (Fastify's ajv), ~40 ms less than require's ~70 files.
 * Nothing to do when the build's validators hold the schemas.
 */
export async function preloadChecker(): Promise<void> {
  if (preloaded || prebuilt().size > 0) return;
  // A CommonJS module seen from an ES one: its exports are the namespace's or its default's.
  const mod = (await import('ajv')) as unknown as { Ajv?: AjvClass; default?: { Ajv?: AjvClass } };
  preloaded = mod.Ajv ?? mod.default?.Ajv;
}

function instance(): Ajv {
  const AjvClass = preloaded ?? (createRequire(import.meta.url)('ajv') as { Ajv: AjvClass }).Ajv;
  return (ajv ??= new AjvClass(ajvOptions()));
}

/** dist/config-validators.cjs (at the same depth from the package root as this file's directory, bundled or not). */
export const VALIDATORS_FILE = new URL('../../config-validators.cjs', import.meta.url);

/** The build's validators by their schema's JSON; empty if the file is missing or unreadable. */
let built: Map<string, ValidateFunction> | undefined;
function prebuilt(): Map<string, ValidateFunction> {
  if (built) return built;
  built = new Map();
  let mod: { schemas?: Record<string, string>; [name: string]: unknown };
  try {
    mod = createRequire(import.meta.url)(fileURLToPath(VALIDATORS_FILE)) as typeof mod;
  } catch {
    return built; // not built (a checkout before its build): the schemas are compiled
  }
  for (const [name, json] of Object.entries(mod.schemas ?? {})) {
    if (typeof mod[name] === 'function') built.set(json, mod[name] as ValidateFunction);
  }
  return built;
}

/** Whether the build's validators hold this very schema (else it is compiled when first checked). */
export function hasBuiltValidator(schema: Node): boolean {
  return prebuilt().has(JSON.stringify(ajvSchema(schema)));
}

/** ajv's validator of a schema: the build's when it holds this very schema (unless `compile`), else compiled now. */
function validatorOf(schema: Node, compile: boolean): ValidateFunction {
  const forAjv = ajvSchema(schema);
  return (compile ? undefined : prebuilt().get(JSON.stringify(forAjv))) ?? instance().compile(forAjv);
}

function kindOf(v: unknown): string {
  if (v === DATE) return 'a date';
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a table';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return `a ${typeof v}`;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'an integer',
  number: 'a number',
  array: 'an array',
  object: 'a table',
};

/** "/trackers/0/name" → "trackers.0.name" */
const dotted = (instancePath: string, ...more: string[]): string =>
  [...instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')), ...more].join('.');
const quoted = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : kindOf(v));

/** One validation error as the config states it: what is wrong with which key. */
function wording(e: ErrorObject): string {
  const key = dotted(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as Node | undefined)?.properties ?? {});
      return `unknown key "${dotted(e.instancePath, String(params.additionalProperty))}" (known here: ${known.join(', ')})`;
    }
    case 'required': {
      const all = ((e.schema as string[] | undefined) ?? []).map((k) => `"${k}"`);
      const needs = all.length === 2 ? `both ${all.join(' and ')}` : list(all, 'and');
      const missing = `key "${dotted(e.instancePath, String(params.missingProperty))}" is missing`;
      return key ? `${missing}: "${key}" needs ${needs}` : missing;
    }
    case 'type': {
      const want = [params.type].flat().map((t) => TYPE_WORDS[String(t)] ?? String(t));
      return `key "${key}" must be ${list(want, 'or')}, got ${kindOf(e.data)}`;
    }
    case 'enum':
      return `key "${key}" must be ${list((params.allowedValues as unknown[]).map((v) => JSON.stringify(v)), 'or')}, got ${quoted(e.data)}`;
    case 'minimum':
      return `key "${key}" must be at least ${String(params.limit)}, got ${String(e.data)}`;
    case 'maximum':
      return `key "${key}" must be at most ${String(params.limit)}, got ${String(e.data)}`;
    case 'pattern':
      return `key "${key}" must be ${PATTERNS[String(params.pattern)] ?? `a string matching /${String(params.pattern)}/`}, got ${quoted(e.data)}`;
    case 'check':
      return `key "${key}": ${e.message ?? ''}`;
    default:
      return `key "${key}" ${e.message ?? 'is not valid'}`;
  }
}

/**
 * A check of file-shaped values against a file-shaped schema (its validator found or compiled
 * when first used; `compile`: compiled, for the test that both agree): the first problem in
 * words, or undefined. Checks that decode (`outputFormat`) rewrite the value in place: give it a copy.
 */
export function checker(schema: Node, opts: { compile?: boolean } = {}): (value: unknown) => string | undefined {
  let validate: ValidateFunction | undefined;
  return (value) => {
    validate ??= validatorOf(schema, opts.compile === true);
    if (!validate(value)) {
      const [e] = validate.errors ?? [];
      return e ? wording(e) : 'not valid';
    }
    const e = runChecks(schema, value, {}, '', '');
    return e ? wording(e) : undefined;
  };
}
