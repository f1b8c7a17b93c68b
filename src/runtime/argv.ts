/** A tracker's options as command-line flags: `eunomia run <tracker>` and the seed API's /start `args`. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EunomiaError, ErrorCodes } from '../core/errors.js';
import { allOptions } from './options.js';
import { fromOriginalFlags } from './original-flags.js';
import type { OptionSpec, OptionValues, TrackerDescriptor } from './types.js';

export type FlagSpecs = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

function usage(msg: string): EunomiaError {
  return new EunomiaError(ErrorCodes.USAGE, msg);
}

/** A flag's non-negative integer, or a usage error naming the flag. */
export function parseUintFlag(flag: string, s: string, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(s)) throw usage(`--${flag} expects a non-negative integer, got "${s}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n > max) throw usage(`--${flag} must be at most ${max}, got ${s}`);
  return n;
}

function optionValue(spec: OptionSpec, raw: string | boolean): number | boolean | string {
  if (spec.type === 'bool') return raw === true;
  if (typeof raw !== 'string') throw usage(`--${spec.flag} needs a value`);
  return spec.type === 'uint' ? parseUintFlag(spec.flag, raw, spec.max) : raw;
}

/**
 * Parses a tracker's flags, plus `extra` flags of the caller's own (returned as `flags`);
 * unknown flags are errors naming the flag. The original Eunomia's spellings are read as
 * this release's, each with a line in `notes` for the caller to show.
 */
export function parseTrackerArgv(tracker: TrackerDescriptor, input: string[], extra: FlagSpecs = {}): { options: OptionValues; flags: FlagValues; notes: string[] } {
  const { argv, notes } = fromOriginalFlags(input);
  const specs = allOptions(tracker);
  const config: FlagSpecs = { ...extra };
  for (const s of specs) {
    config[s.flag] = { type: s.type === 'bool' ? 'boolean' : 'string', ...(s.short ? { short: s.short } : {}), ...(s.repeatable ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: config, strict: true, allowPositionals: false });
  } catch (e) {
    throw usage(`${(e as Error).message.replace(/\. To specify.*$/s, '')} — see "eunomia run ${tracker.name} --help"`);
  }
  const flags = parsed.values as FlagValues;
  const options: OptionValues = {};
  for (const s of specs) {
    const given = flags[s.flag];
    const raw = Array.isArray(given) ? given.join(',') : given;
    if (raw !== undefined) options[s.name] = optionValue(s, raw);
  }
  return { options, flags, notes };
}
