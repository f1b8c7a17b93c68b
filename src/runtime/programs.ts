/**
 * Which of an object's programs an instance loads: the descriptor's choice, less those this
 * kernel lacks, and one of each group of alternatives (TrackerDescriptor.fallbacks). A candidate
 * the kernel refuses at load or attach is ruled out and the start tried again with the next.
 */
import type { BpfObject } from '../core/bpf-object.js';
import { EunomiaError, ErrorCodes, isEunomiaError } from '../core/errors.js';
import { hasTracepoint } from '../core/kernel.js';
import type { OptionValues, SkippedProgram, TrackerDescriptor } from './types.js';

/** Program → why it cannot run here: learnt from failed attempts of one start. */
export type RuledOut = Map<string, string>;

const TRACEPOINT = /^(?:tp|tracepoint)\/([^/]+)\/([^/]+)$/;

function missingTracepoint(section: string): string | undefined {
  const m = TRACEPOINT.exec(section);
  return m && !hasTracepoint(section) ? `this kernel has no tracepoint ${m[1]}:${m[2]}` : undefined;
}

/**
 * Sets every program's autoload for these options and returns what is left out and why.
 * Throws E_LOAD when a required group has no candidate left.
 */
export function choosePrograms(obj: BpfObject, d: TrackerDescriptor, values: OptionValues, ruledOut: RuledOut): SkippedProgram[] {
  const skipped: SkippedProgram[] = [];
  const off = (program: string, reason: string): void => {
    obj.setAutoload(program, false);
    skipped.push({ program, reason });
  };
  if (d.programs) {
    const wanted = new Set(d.programs(values));
    for (const p of obj.programs()) obj.setAutoload(p.name, wanted.has(p.name));
  }
  const on = (name: string): boolean => obj.programs().some((p) => p.name === name && p.autoload);
  for (const [program, reason] of Object.entries(d.unavailable ?? {})) if (on(program)) off(program, reason);
  for (const name of d.optionalPrograms ?? []) {
    const p = obj.programs().find((x) => x.name === name);
    if (!p) throw new EunomiaError(ErrorCodes.ATTACH, `${obj.name}: optional program "${name}" is not in the object`);
    const missing = p.autoload ? missingTracepoint(p.section) : undefined;
    if (missing) off(name, missing);
  }
  for (const group of d.fallbacks ?? []) {
    const reasons: string[] = [];
    let chosen: string | undefined;
    for (const name of group.programs) {
      const p = obj.programs().find((x) => x.name === name);
      if (!p || !p.autoload) continue;
      const why = ruledOut.get(name) ?? missingTracepoint(p.section);
      if (why !== undefined) {
        off(name, why);
        reasons.push(`${name}: ${why}`);
      } else if (chosen === undefined) chosen = name;
      else off(name, `an alternative to ${chosen}, which runs`);
    }
    if (chosen === undefined && !group.optional && reasons.length > 0) {
      throw new EunomiaError(ErrorCodes.LOAD, `${d.name}: none of ${group.programs.join(', ')} can run on this kernel (${reasons.join('; ')})`);
    }
  }
  return skipped;
}

/** Programs of a group that may still be replaced by a later candidate. */
export function inGroups(d: TrackerDescriptor): Set<string> {
  return new Set((d.fallbacks ?? []).flatMap((g) => g.programs));
}

const failedAt = new WeakMap<object, string>();

/** Marks an attach error with the program that failed (attach errors name it only in prose). */
export function attachFailure(e: unknown, program: string): unknown {
  if (typeof e === 'object' && e !== null) failedAt.set(e, program);
  return e;
}

/**
 * The program a load or attach error is about, and the kernel's reason in a few words; undefined
 * when the error names none of `candidates` (then it is not a program's own failure).
 */
export function failedProgram(e: unknown, candidates: Set<string>): { program: string; reason: string } | undefined {
  if (!isEunomiaError(e)) return undefined;
  const tagged = failedAt.get(e);
  const text = `${e.log ?? ''}\n${e.message}`;
  if (tagged !== undefined) {
    if (!candidates.has(tagged)) return undefined;
    const line = /failed to (?:create|attach)[^\n]*/.exec(text)?.[0] ?? e.message.split('\n')[0]!;
    return { program: tagged, reason: `attach: ${line.trim()}` };
  }
  // libbpf: "prog 'NAME': BPF program load failed: Operation not permitted".
  for (const m of text.matchAll(/prog '([^']+)': BPF program load failed: ([^\n]*)/g)) {
    if (candidates.has(m[1]!)) return { program: m[1]!, reason: `load: ${m[2]!.trim()}${e.errno === undefined ? '' : ` (errno ${e.errno})`}` };
  }
  const m = /prog '([^']+)': failed to load/.exec(text);
  if (m && candidates.has(m[1]!)) return { program: m[1]!, reason: `load: ${e.message.split('\n')[0]}` };
  return undefined;
}
