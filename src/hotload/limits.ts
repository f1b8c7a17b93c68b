/** What a hot-loaded program may be: its size and the kinds of programs it may contain. */
import { EunomiaError, ErrorCodes } from '../core/errors.js';

/**
 * Program kinds by where they attach, named after libbpf's section prefixes. Only these can
 * be allowed: networking and cgroup programs (xdp, tc, socket, cgroup/…) are refused whatever
 * the limits say, since a hot-loaded program observes, it does not steer traffic.
 */
export const PROGRAM_TYPES = ['tracepoint', 'raw_tracepoint', 'tp_btf', 'uprobe', 'usdt', 'perf_event', 'kprobe', 'fentry', 'fmod_ret', 'lsm'] as const;
export type ProgramType = (typeof PROGRAM_TYPES)[number];

export interface HotloadLimits {
  /** Largest ELF object accepted, in bytes, after base64 (and zlib) decoding. Default 8 MiB. */
  maxObjectBytes: number;
  /**
   * Program kinds a package may contain. Default: tracepoint, raw_tracepoint, tp_btf, uprobe,
   * perf_event. `kprobe` covers kretprobe and ksyscall; `fentry` covers fexit; `uprobe`
   * covers uretprobe.
   */
  allowedProgramTypes: readonly string[];
  /** Most event streams (ring buffers and perf event arrays) one package may have read. Default 16. */
  maxStreams: number;
}

export const DEFAULT_HOTLOAD_LIMITS: Readonly<HotloadLimits> = Object.freeze({
  maxObjectBytes: 8 * 1024 * 1024,
  allowedProgramTypes: Object.freeze(['tracepoint', 'raw_tracepoint', 'tp_btf', 'uprobe', 'perf_event']),
  maxStreams: 16,
});

const KINDS: [RegExp, ProgramType][] = [
  [/^(tp|tracepoint)\//, 'tracepoint'],
  [/^(raw_tp|raw_tracepoint)(\.w)?\//, 'raw_tracepoint'],
  [/^tp_btf\//, 'tp_btf'],
  [/^u(ret)?probe(\.s)?(\/|$)/, 'uprobe'],
  [/^usdt(\.s)?(\/|$)/, 'usdt'],
  [/^perf_event$/, 'perf_event'],
  [/^k(ret)?(probe|syscall)(\.multi|\.session)?(\/|$)/, 'kprobe'],
  [/^(fentry|fexit)(\.s)?(\/|$)/, 'fentry'],
  [/^fmod_ret(\.s)?(\/|$)/, 'fmod_ret'],
  [/^lsm(\.s|_cgroup)?(\/|$)/, 'lsm'],
];

/** The kind of a program from its ELF section name; anything else is its section's prefix (xdp, tc, …). */
export function programType(section: string): string {
  const s = section.replace(/^\?/, ''); // "?tp/..." = not loaded by default; same kind
  for (const [re, kind] of KINDS) if (re.test(s)) return kind;
  return s.split('/')[0] || s;
}

/** Defaults overlaid with `partial`; a bad value (from a config file, usually) is E_CONFIG naming it. */
export function resolveLimits(partial: Partial<HotloadLimits> = {}): HotloadLimits {
  const out: HotloadLimits = { ...DEFAULT_HOTLOAD_LIMITS, ...stripUndefined(partial) };
  const bad = (key: string, msg: string): EunomiaError => new EunomiaError(ErrorCodes.CONFIG, `hot-load limit ${key}: ${msg}`);
  if (!Number.isSafeInteger(out.maxObjectBytes) || out.maxObjectBytes < 64) throw bad('maxObjectBytes', `expected an integer of at least 64 bytes, got ${String(out.maxObjectBytes)}`);
  if (!Number.isSafeInteger(out.maxStreams) || out.maxStreams < 0) throw bad('maxStreams', `expected a non-negative integer, got ${String(out.maxStreams)}`);
  if (!Array.isArray(out.allowedProgramTypes)) throw bad('allowedProgramTypes', 'expected an array of program kinds');
  for (const t of out.allowedProgramTypes) {
    if (!(PROGRAM_TYPES as readonly unknown[]).includes(t)) throw bad('allowedProgramTypes', `unknown program kind ${JSON.stringify(t)} (known: ${PROGRAM_TYPES.join(', ')})`);
  }
  return out;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
