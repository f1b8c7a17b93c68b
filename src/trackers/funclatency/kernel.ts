/**
 * Kernel functions (`--func vfs_read`, no BINARY): timing one needs a kprobe or an fentry
 * program. Whether this kernel allows either is probed once, the way the kernel answers: its
 * kprobe PMU or tracefs kprobe_events (none when CONFIG_KPROBES is off), and a load of a
 * one-instruction fentry program (which a kernel may refuse: EPERM).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject } from '../../core/bpf-object.js';
import { EunomiaError, ErrorCodes, isEunomiaError } from '../../core/errors.js';
import { hasBpfPrivileges } from '../../core/kernel.js';
import { loadNative } from '../../core/native.js';
import { objectDir } from '../../core/paths.js';

const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe/type';
const KPROBE_EVENTS = ['/sys/kernel/tracing/kprobe_events', '/sys/kernel/debug/tracing/kprobe_events'];
const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 13: 'EACCES', 22: 'EINVAL', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP' };

export interface KernelFunctionSupport {
  /** Undefined where allowed, else why not. */
  kprobes?: string;
  fentry?: string;
}

let probed: KernelFunctionSupport | undefined;

function probeKprobes(): string | undefined {
  return existsSync(KPROBE_PMU) || KPROBE_EVENTS.some((p) => existsSync(p)) ? undefined : 'kprobes are compiled out: no kprobe PMU, no kprobe_events in tracefs';
}

/** Loads the object's fentry program alone (never attached) and says how the kernel answered. */
function probeFentry(): string | undefined {
  if (!hasBpfPrivileges()) return 'fentry not tried (loading eBPF needs root)';
  let obj: BpfObject | undefined;
  try {
    obj = BpfObject.open(loadNative(), join(objectDir, 'funclatency.bpf.o'), 'funclatency');
    for (const p of obj.programs()) obj.setAutoload(p.name, p.name === 'fl_fentry_probe');
    obj.setMaxEntries('events', 4096);
    obj.load();
    return undefined;
  } catch (e) {
    const errno = isEunomiaError(e) ? e.errno : undefined;
    return `fentry refused: ${errno === undefined ? (e as Error).message : (ERRNO_NAMES[errno] ?? `errno ${errno}`)}`;
  } finally {
    obj?.closeNow();
  }
}

/** Whether this kernel lets a program time a kernel function (probed once per process). */
export function kernelFunctionSupport(): KernelFunctionSupport {
  if (!probed) {
    const kprobes = probeKprobes();
    const fentry = probeFentry();
    probed = { ...(kprobes === undefined ? {} : { kprobes }), ...(fentry === undefined ? {} : { fentry }) };
  }
  return probed;
}

/** The error for a kernel function asked for: why this kernel cannot, or that funclatency does not yet. */
export function kernelFunctionError(func: string): EunomiaError {
  const { kprobes, fentry } = kernelFunctionSupport();
  const what = `tracker funclatency: "${func}" is a kernel function (no BINARY:)`;
  if (kprobes !== undefined && fentry !== undefined) {
    return new EunomiaError(ErrorCodes.ATTACH, `${what}: kernel functions need kprobes or fentry, which this kernel does not allow (${kprobes}; ${fentry}) — use BINARY:FUNCTION for user functions`);
  }
  const allowed = kprobes === undefined ? 'kprobes' : 'fentry';
  return new EunomiaError(ErrorCodes.OPTION, `${what}: this kernel allows ${allowed}, but funclatency times user functions only so far — use BINARY:FUNCTION`);
}
