/**
 * The original Eunomia's config keys (its `eunomia_config_data`, read by src/config.cpp there):
 * each is read as the key of this release that replaces it, with a note naming that key, or
 * refused with the reason when nothing here does what it did. Keys the file does not set take
 * this release's defaults, not the original's (the original's TOML loading ignored the file
 * anyway: docs/server.md).
 */
import type { FromSchema } from 'json-schema-to-ts';
import { parseFormat, type Format } from '../exporters/index.js';
import { parseTrackerArgv } from '../runtime/argv.js';
import { findTracker } from '../trackers/registry.js';
import type { OptionValues } from '../runtime/types.js';
import type { ConfigSchema } from './config.js';
import { checker } from './config-check.js';
import { plain, type Node } from './config-schema.js';

const HANDLER = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name: { type: 'string' }, args: { type: 'array', items: { type: 'string' } } },
} as const satisfies ConfigSchema;

/** Each original key: its type there, and what it is now (the docs' table). */
const ORIGINAL = {
  run_selected: { schema: { type: 'string' }, now: 'ignored: the command is the mode (`eunomia server`, `eunomia safe`), as the original\'s command line overrode it' },
  enabled_trackers: {
    schema: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string' }, args: { type: 'array', items: { type: 'string' } }, export_handlers: { type: 'array', items: HANDLER } },
      },
    },
    now: '`trackers`: each one\'s `args` (its command-line flags; the original\'s `--container-id` as `--container`) as its `options`, the name `tcp` as `tcpconnect`; its `export_handlers` `json_format`, `plain_text`, `csv` as `output.format` (one format for every tracker), `container_info`, `prometheus` and `none` as they are (always on)',
  },
  disable_other_configs: { schema: { type: 'boolean' }, now: '`true`: `fmt`, `enabled_export_types` and `enable_container_manager` are ignored, as the original added their handlers only without it' },
  tracing_selected: { schema: { enum: ['all', 'pid', 'container_id'] }, now: '`"pid"` / `"container_id"` with `tracing_target_id`: the `pid` / `container` option of every configured tracker (the original parsed them and filtered nothing); `"all"`: ignored' },
  tracing_target_id: { schema: { type: 'string' }, now: 'see `tracing_selected`' },
  exit_after: { schema: { type: 'integer', minimum: 0 }, now: '`0`: ignored (no automatic exit). More: an error — `eunomia server` runs until SIGINT/SIGTERM; `timeout N eunomia server …` stops it after N seconds' },
  enabled_export_types: { schema: { type: 'array', items: { enum: ['prometheus', 'stdout'] } }, now: '`"stdout"`: `output.format` (from `fmt`, default plain); without `"prometheus"`: `metrics_listen = "off"`' },
  fmt: { schema: { type: 'string', check: 'formatOrNone' }, now: '`output.format` (`"none"`: no output)' },
  enable_container_manager: { schema: { type: 'boolean' }, now: '`containers`' },
  prometheus_listening_address: { schema: { type: 'string' }, now: '`metrics_listen`' },
  enable_sec_rule_detect: { schema: { type: 'boolean' }, now: '`rules.enabled`' },
  security_rules: {
    schema: {
      type: 'array',
      items: { type: 'object', additionalProperties: false, properties: { rule_name: { type: 'string' }, type: { type: 'string' }, trigger: { type: 'string' }, err_msg: { type: 'string' } } },
    },
    now: '`[]`: ignored. Rules: an error — the original never loaded them; rules are YAML files now (docs/rules.md), listed in `rules.files`',
  },
  seccomp_data: {
    schema: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { container_id: { type: 'string' }, allow_syscall: { type: 'array', items: { type: 'string' } } } } },
    now: '`[]`: ignored. Entries: an error — its lists are no profile (the original only counted each list): record one with `eunomia seccomp record` (docs/seccomp.md)',
  },
  enable_seccomp_module: { schema: { type: 'boolean' }, now: '`false`: ignored. `true`: an error — the original read the key and did nothing; seccomp profiles are recorded and applied with `eunomia seccomp` (docs/seccomp.md)' },
  server_port: { schema: { type: 'integer', minimum: 0, maximum: 65535 }, now: '`listen = "127.0.0.1:PORT"` (the original ignored it and served localhost:8527)' },
} as const satisfies Record<string, { schema: ConfigSchema; now: string }>;

/** The original's keys as one table (the file's keys of this release are checked apart). */
export const ORIGINAL_SCHEMA: Node = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.entries(ORIGINAL).map(([k, o]) => [k, o.schema as Node])),
};
const originalProblem = checker(ORIGINAL_SCHEMA);

type Original = { [K in keyof typeof ORIGINAL]?: FromSchema<(typeof ORIGINAL)[K]['schema']> };

/** The original's handler names (and the seed API's `stdout`): the format they print in, or null for none. */
const HANDLERS: Record<string, Format | null> = { json_format: 'json', plain_text: 'plain', stdout: 'plain', csv: 'csv', prometheus: null, container_info: null, none: null };

/** docs/server.md's table of the original's keys. */
export function originalKeyTable(): string {
  return ['| original key | read as |', '|---|---|', ...Object.entries(ORIGINAL).map(([k, o]) => `| \`${k}\` | ${o.now.replace(/\|/g, '\\|')} |`)].join('\n');
}

const isTable = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `raw` with the original's keys replaced by this release's (a new object; `raw` is left
 * as it is). `fail` throws; `note` is told, for each original key, what it was read as.
 */
export function fromOriginal(raw: Record<string, unknown>, fail: (msg: string) => never, note: (msg: string) => void, defaultTrackers: readonly string[]): Record<string, unknown> {
  const given = Object.keys(raw).filter((k) => k in ORIGINAL);
  if (given.length === 0) return raw;
  const old = plain(Object.fromEntries(given.map((k) => [k, raw[k]]))) as Original;
  const problem = originalProblem(old);
  if (problem !== undefined) fail(problem);

  const out: Record<string, unknown> = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in ORIGINAL)));
  const deprecated = (key: keyof typeof ORIGINAL, what: string): void => note(`key "${key}" is deprecated (the original Eunomia's): ${what}`);
  const noEquivalent = (key: keyof typeof ORIGINAL, why: string): never => fail(`key "${key}" (the original Eunomia's) has no equivalent: ${why}`);
  /** Sets a key of this release; given both ways, the original's is an error. */
  const put = (from: keyof typeof ORIGINAL, path: string[], value: unknown): void => {
    let at = out;
    for (const k of path.slice(0, -1)) {
      if (at[k] === undefined) at[k] = {};
      else if (!isTable(at[k])) return; // the key's own check says what is wrong with it
      else at[k] = { ...at[k] }; // raw's tables stay as they were
      at = at[k] as Record<string, unknown>;
    }
    const last = path.at(-1)!;
    if (at[last] !== undefined) fail(`key "${from}" (the original Eunomia's) and "${path.join('.')}" are both given: keep "${path.join('.')}"`);
    at[last] = value;
  };

  if (old.run_selected !== undefined) deprecated('run_selected', 'ignored: the command is the mode (eunomia server, eunomia safe)');
  if (old.exit_after !== undefined) {
    if (old.exit_after > 0) noEquivalent('exit_after', 'eunomia server runs until SIGINT/SIGTERM — stop it after N seconds with "timeout N eunomia server …" (or use "eunomia run TRACKER -T N")');
    deprecated('exit_after', 'ignored (0: no automatic exit)');
  }
  if (old.security_rules !== undefined) {
    if (old.security_rules.length > 0) noEquivalent('security_rules', 'the original never loaded these rules; rules are YAML files now (docs/rules.md): write one and list it in rules.files');
    deprecated('security_rules', 'ignored (empty)');
  }
  if (old.seccomp_data !== undefined) {
    if (old.seccomp_data.length > 0) noEquivalent('seccomp_data', 'its lists are no seccomp profile (the original only counted each list): record one with "eunomia seccomp record" and run under it (docs/seccomp.md)');
    deprecated('seccomp_data', 'ignored (empty)');
  }
  if (old.enable_seccomp_module !== undefined) {
    if (old.enable_seccomp_module) noEquivalent('enable_seccomp_module', 'the original read the key and did nothing with it: seccomp profiles are recorded and applied with "eunomia seccomp" (docs/seccomp.md)');
    deprecated('enable_seccomp_module', 'ignored (false)');
  }
  if (old.server_port !== undefined) {
    put('server_port', ['listen'], `127.0.0.1:${old.server_port}`);
    deprecated('server_port', `read as listen = "127.0.0.1:${old.server_port}"`);
  }
  if (old.prometheus_listening_address !== undefined) {
    put('prometheus_listening_address', ['metrics_listen'], old.prometheus_listening_address);
    deprecated('prometheus_listening_address', `read as metrics_listen = ${JSON.stringify(old.prometheus_listening_address)}`);
  }
  if (old.enable_sec_rule_detect !== undefined) {
    put('enable_sec_rule_detect', ['rules', 'enabled'], old.enable_sec_rule_detect);
    deprecated('enable_sec_rule_detect', `read as rules.enabled = ${old.enable_sec_rule_detect}`);
  }

  // Trackers, and the formats their handlers print in.
  const formats = new Map<Format, string>(); // format → the key that asks for it
  let trackers: { name: string; options: OptionValues }[] | undefined;
  if (old.enabled_trackers !== undefined) {
    trackers = old.enabled_trackers.map((t, i) => {
      let options: OptionValues = {};
      let name = t.name;
      try {
        const tracker = findTracker(t.name, undefined, (n) => note(`key "enabled_trackers.${i}.name": ${n}`));
        name = tracker.name;
        if (t.args?.length) {
          const parsed = parseTrackerArgv(tracker, t.args);
          options = parsed.options;
          for (const n of parsed.notes) note(`key "enabled_trackers.${i}.args": ${n}`);
        }
      } catch (e) {
        fail(`key "enabled_trackers.${i}.${t.args?.length ? 'args' : 'name'}": ${(e as Error).message}`);
      }
      (t.export_handlers ?? []).forEach((h, j) => {
        const f = HANDLERS[h.name];
        if (f === undefined) fail(`key "enabled_trackers.${i}.export_handlers.${j}.name": unknown export handler "${h.name}" (known: ${Object.keys(HANDLERS).join(', ')})`);
        if (f) formats.set(f, `enabled_trackers.${i}.export_handlers.${j}`);
      });
      return { name, options };
    });
    put('enabled_trackers', ['trackers'], trackers);
    deprecated('enabled_trackers', 'read as trackers (each one\'s args as its options)');
  }
  const globalHandlers = ['fmt', 'enabled_export_types', 'enable_container_manager'] as const;
  if (old.disable_other_configs) {
    for (const k of globalHandlers) if (old[k] !== undefined) deprecated(k, 'ignored: disable_other_configs = true');
  } else {
    const fmt = old.fmt === undefined || old.fmt === 'none' ? undefined : parseFormat(old.fmt);
    const types = old.enabled_export_types;
    // "stdout" among the export types printed in fmt (plain by default); fmt alone printed too.
    const printed = types ? (types.includes('stdout') && old.fmt !== 'none' ? (fmt ?? 'plain') : undefined) : fmt;
    if (printed) formats.set(printed, types ? 'enabled_export_types' : 'fmt');
    if (types) {
      if (!types.includes('prometheus')) put('enabled_export_types', ['metrics_listen'], 'off');
      deprecated('enabled_export_types', `read as ${printed ? `output.format = "${printed}"` : 'no output'}${types.includes('prometheus') ? '' : ' and metrics_listen = "off"'}`);
    }
    if (old.fmt !== undefined) {
      deprecated('fmt', old.fmt === 'none' ? 'read as no output' : types && !types.includes('stdout') ? 'ignored: enabled_export_types has no "stdout"' : `read as output.format = "${fmt}"`);
    }
    if (old.enable_container_manager !== undefined) {
      put('enable_container_manager', ['containers'], old.enable_container_manager);
      deprecated('enable_container_manager', `read as containers = ${old.enable_container_manager}`);
    }
  }
  if (old.disable_other_configs !== undefined) {
    deprecated('disable_other_configs', old.disable_other_configs ? 'read: fmt, enabled_export_types and enable_container_manager do not apply' : 'ignored (false)');
  }
  if (formats.size > 1) {
    fail(`the original Eunomia's keys ${[...formats.values()].map((k) => `"${k}"`).join(', ')} print events in ${[...formats.keys()].join(', ')}: this release prints every tracker's events in one format — set output.format instead`);
  }
  const [format] = formats.keys();
  if (format !== undefined) put(formats.get(format)!.split('.')[0] as keyof typeof ORIGINAL, ['output', 'format'], format);

  // The original's tracing target, on every configured tracker.
  if (old.tracing_selected === 'pid' || old.tracing_selected === 'container_id') {
    const target = old.tracing_target_id ?? '';
    if (target === '') fail(`key "tracing_selected" = "${old.tracing_selected}" needs "tracing_target_id"`);
    if (old.tracing_selected === 'pid' && !/^\d+$/.test(target)) fail(`key "tracing_target_id" must be a process id with tracing_selected = "pid", got "${target}"`);
    const [option, value] = old.tracing_selected === 'pid' ? ['pid', Number(target)] : ['container', target];
    const list = trackers ?? (Array.isArray(out.trackers) ? out.trackers : defaultTrackers.map((name) => ({ name })));
    out.trackers = (list as unknown[]).map((t) => {
      if (!isTable(t)) return t; // the key's own check says what is wrong
      const options = isTable(t.options) ? t.options : {};
      if (options[option] !== undefined) fail(`key "tracing_target_id" (the original Eunomia's) and a tracker's option "${option}" are both given: keep the option`);
      return { ...t, options: { ...options, [option]: value } };
    });
    deprecated('tracing_selected', `read as option ${option} = ${JSON.stringify(value)} of every configured tracker`);
    deprecated('tracing_target_id', `read with tracing_selected`);
  } else {
    if (old.tracing_selected !== undefined) deprecated('tracing_selected', 'ignored ("all")');
    if (old.tracing_target_id !== undefined) deprecated('tracing_target_id', 'ignored (tracing_selected is not "pid" or "container_id")');
  }
  return out;
}
