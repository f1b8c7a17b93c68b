/**
 * The config's checks: its file schema (src/agent/config.ts in the file's spelling) compiled by
 * ajv (the ajv Fastify uses), the checks written as code that a key names by its `check`, and
 * each error in words naming the key as the file writes it. Importing this file loads no ajv
 * (every command imports it, through `eunomia server`'s module): the first check does.
 */
import { createRequire } from 'node:module';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import type { DataValidationCxt } from 'ajv/dist/types/index.js';
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

/** ajv's call of a check: true, or false with the error (ajv reads it from the function). */
function runCheck(name: CheckName, value: unknown, _schema: unknown, cxt?: DataValidationCxt): boolean {
  const c = CHECKS[name];
  const table = (cxt?.parentData ?? {}) as Record<string, unknown>;
  try {
    const out = c.check(value as never, table);
    if (c.decodes && cxt) cxt.parentData[cxt.parentDataProperty] = out;
    return true;
  } catch (e) {
    const at = cxt?.instancePath ?? '';
    runCheck.errors = [{ keyword: 'check', message: (e as Error).message, params: { check: name }, ...(c.namesTable ? { instancePath: at.slice(0, at.lastIndexOf('/')) } : {}) }];
    return false;
  }
}
runCheck.errors = undefined as Partial<ErrorObject>[] | undefined;

let ajv: Ajv | undefined;
type AjvClass = new (opts: object) => Ajv;
let preloaded: AjvClass | undefined;

/**
 * Loads ajv ahead of the first check, where the caller can wait: in the CLI's bundle it is part of
 * the bundle (Fastify's ajv), ~40 ms less than require's ~70 files. Without it, the check requires it.
 */
export async function preloadChecker(): Promise<void> {
  if (preloaded) return;
  // A CommonJS module seen from an ES one: its exports are the namespace's or its default's.
  const mod = (await import('ajv')) as unknown as { Ajv?: AjvClass; default?: { Ajv?: AjvClass } };
  preloaded = mod.Ajv ?? mod.default?.Ajv;
}

/**
 * One ajv for every schema of the config, made when a config is first checked: ajv itself is
 * loaded then (~40 ms here), not when this file is imported; compiling the file's schema costs
 * ~25 ms more, once (`eunomia server` checks its config at start).
 */
function instance(): Ajv {
  if (ajv) return ajv;
  const AjvClass = preloaded ?? (createRequire(import.meta.url)('ajv') as { Ajv: AjvClass }).Ajv;
  ajv = new AjvClass({
    allErrors: false, // the first problem is the one said
    verbose: true, // errors carry the data and the schema that failed: the words need them
    strict: true,
    // The schemas are literals the compiler already checks against JSON Schema (ConfigSchema):
    // checking them again against the meta-schema would only cost the start its compile.
    validateSchema: false,
    // A config is checked once or twice: optimizing the generated code costs more than it saves.
    code: { optimize: false },
  });
  ajv.addKeyword({
    keyword: 'check',
    schemaType: 'string',
    // After the key's own keywords: a check sees a value of the declared type.
    post: true,
    modifying: true,
    errors: true,
    validate: runCheck,
  });
  return ajv;
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
 * A check of file-shaped values against a file-shaped schema (compiled when first used): the
 * first problem in words, or undefined. Checks that decode (`outputFormat`) rewrite the value
 * in place: give it a copy.
 */
export function checker(schema: Node): (value: unknown) => string | undefined {
  let validate: ValidateFunction | undefined;
  return (value) => {
    validate ??= instance().compile(schema);
    if (validate(value)) return undefined;
    const [e] = validate.errors ?? [];
    return e ? wording(e) : 'not valid';
  };
}
