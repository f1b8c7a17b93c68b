/** Validates tracker options and turns them into the eBPF object's globals. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { commonOptions } from './common-options.js';
import { containerScope, type ContainerScope } from './scope.js';
import type { OptionSpec, OptionValues, TrackerDescriptor } from './types.js';

/** `-i` and `-n`, for trackers that report every interval. */
function intervalOptions(d: TrackerDescriptor): OptionSpec[] {
  if (!d.interval) return [];
  return [
    { name: 'interval', flag: 'interval', short: 'i', type: 'uint', arg: 'SECONDS', default: d.interval.seconds, max: 86400, description: `seconds between reports (default ${d.interval.seconds})` },
    { name: 'top', flag: 'top', short: 'n', type: 'uint', arg: 'N', default: d.interval.top, max: 1_000_000, description: `rows per report, 0 = all (default ${d.interval.top})` },
  ];
}

export function allOptions(d: TrackerDescriptor): OptionSpec[] {
  return [...(d.commonOptions === false ? [] : commonOptions), ...intervalOptions(d), ...d.options];
}

function check(d: TrackerDescriptor, spec: OptionSpec, v: number | boolean | string): number | boolean | string {
  const what = `tracker ${d.name}: option ${spec.flag}`;
  switch (spec.type) {
    case 'uint':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || (spec.max !== undefined && v > spec.max)) {
        throw new EunomiaError(ErrorCodes.OPTION, `${what}: expected an integer 0..${spec.max ?? Number.MAX_SAFE_INTEGER}, got ${JSON.stringify(v)}`);
      }
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new EunomiaError(ErrorCodes.OPTION, `${what}: expected true or false, got ${JSON.stringify(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new EunomiaError(ErrorCodes.OPTION, `${what}: expected a string, got ${JSON.stringify(v)}`);
      return v;
    case 'global':
      return v;
  }
}

export interface ResolvedOptions {
  /** Every option with its value (defaults filled in). */
  values: OptionValues;
  /** Globals to set in the object before load (the descriptor's own, then the options'). */
  globals: Record<string, unknown>;
  /** The container scope the options ask for. */
  scope: ContainerScope;
}

/** Unknown keys and wrong types are errors that name the option — never silently ignored. */
export function resolveOptions(d: TrackerDescriptor, input: OptionValues, selfPid: number): ResolvedOptions {
  const specs = allOptions(d);
  for (const key of Object.keys(input)) {
    if (input[key] !== undefined && !specs.some((s) => s.name === key)) {
      throw new EunomiaError(ErrorCodes.OPTION, `tracker ${d.name}: unknown option "${key}" (options: ${specs.map((s) => s.name).join(', ')})`);
    }
  }
  const values: OptionValues = {};
  const globals: Record<string, unknown> = { ...d.globals };
  for (const spec of specs) {
    const raw = input[spec.name] ?? spec.default;
    if (raw === undefined) continue;
    const v = check(d, spec, raw);
    values[spec.name] = v;
    if (spec.global) globals[spec.global] = spec.toGlobal ? spec.toGlobal(v) : v;
  }
  d.validate?.(values);
  if (values.interval === 0) throw new EunomiaError(ErrorCodes.OPTION, `tracker ${d.name}: option interval must be at least 1 second`);
  // Unless given as a global of its own (a hot-loaded program may set it).
  if (d.commonOptions !== false && !values.includeSelf) globals.eunomia_exclude_pid ??= selfPid;
  const scope = containerScope(d.name, values);
  if (scope.mode) globals.eunomia_container_filter = scope.mode;
  return { values, globals, scope };
}
