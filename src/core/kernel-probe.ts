/**
 * Which kinds of eBPF program this kernel lets Eunomia load and attach — asked of the kernel
 * itself, not guessed from its version or config: one do-nothing program of each kind
 * (bpf/probes/probes.bpf.c) is loaded alone, attached, detached, and the kernel's answer (the
 * errno, with what it means here) is kept. Every kind is probed at once, each in its own object
 * (a refused program fails its whole object's load), the loads on libuv's worker threads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfObject } from './bpf-object.js';
import { isEunomiaError } from './errors.js';
import { hasBpfPrivileges, permissionRefusal } from './kernel.js';
import type { NativeBinding } from './native.js';
import { objectDir } from './paths.js';

export const PROGRAM_KINDS = ['tracepoint', 'raw_tracepoint', 'tp_btf', 'kprobe', 'fentry', 'fexit', 'lsm', 'uprobe', 'perf_event'] as const;
export type ProgramKind = (typeof PROGRAM_KINDS)[number];

/** The kernel's answer for one kind. */
export interface KindProbe {
  kind: ProgramKind;
  /** Loaded and attached (for `lsm`: and the BPF LSM is active, so it would run). */
  ok: boolean;
  /** The step that failed: `load` (the bpf() syscall, the verifier) or `attach`. */
  stage?: 'open' | 'load' | 'attach' | 'active';
  errno?: number;
  /** The errno's name (EPERM, ENOENT, …). */
  error?: string;
  /** What the answer means on this kernel, and what to do. */
  reason?: string;
  /** What the probe loaded and attached to. */
  target: string;
  /** Its open + load + attach + detach, in ms. */
  ms: number;
}

export const PROBE_OBJECT = 'probes.bpf.o';
/** Where the kernel lists its active security modules (securityfs). */
export const LSM_LIST = '/sys/kernel/security/lsm';

const PROGRAM: Record<ProgramKind, string> = {
  tracepoint: 'probe_tracepoint',
  raw_tracepoint: 'probe_raw_tp',
  tp_btf: 'probe_tp_btf',
  kprobe: 'probe_kprobe',
  fentry: 'probe_fentry',
  fexit: 'probe_fexit',
  lsm: 'probe_lsm',
  uprobe: 'probe_uprobe',
  perf_event: 'probe_perf_event',
};

const TARGET: Record<ProgramKind, string> = {
  tracepoint: 'sched:sched_process_exit',
  raw_tracepoint: 'sched_process_exit',
  tp_btf: 'sched_process_exit',
  kprobe: 'vfs_read',
  fentry: 'vfs_read',
  fexit: 'vfs_read',
  lsm: 'sb_mount',
  uprobe: 'libc getpid, this process only',
  perf_event: 'software cpu-clock, CPU 0, 1 Hz',
};

export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 7: 'E2BIG', 9: 'EBADF', 12: 'ENOMEM', 13: 'EACCES', 16: 'EBUSY', 19: 'ENODEV',
  22: 'EINVAL', 38: 'ENOSYS', 95: 'EOPNOTSUPP', 524: 'ENOTSUPP',
};

const TRAMPOLINE = new Set<ProgramKind>(['fentry', 'fexit', 'lsm']);
/** Kinds whose load makes libbpf read the kernel's whole BTF (to find the attach target). */
const TYPED_BY_BTF = new Set<ProgramKind>(['tp_btf', 'fentry', 'fexit', 'lsm']);

/** What an errno from `stage` means for `kind` (libbpf's and the kernel's conventions). */
export function explainErrno(kind: ProgramKind, stage: 'load' | 'attach', errno: number, privileged = hasBpfPrivileges()): string {
  switch (errno) {
    case 1:
    case 13:
      if (privileged && TRAMPOLINE.has(kind)) {
        return `refused by the kernel although this process is privileged: this kernel's policy forbids ${kind} programs (BPF trampolines) here — a security module, kernel lockdown, or the hypervisor; trackers use their tracepoint alternatives`;
      }
      return `${permissionRefusal(privileged)}${privileged ? ` (at ${stage})` : ''}`;
    case 2:
      if (kind === 'kprobe') return 'no kprobe PMU and no kprobe_events in tracefs: the kernel is built without kprobe events (CONFIG_KPROBE_EVENTS), or tracefs is not mounted';
      if (kind === 'tracepoint') return 'the tracepoint is not in tracefs: tracefs is not mounted, or the kernel lacks the tracepoint';
      if (kind === 'uprobe') return 'no uprobe PMU and no uprobe_events in tracefs: the kernel is built without uprobes (CONFIG_UPROBE_EVENTS)';
      return `the ${stage} target is missing from this kernel`;
    case 3:
      return `the ${stage} target is missing from this kernel's BTF`;
    case 7:
    case 22:
      return stage === 'load'
        ? `this kernel does not know ${kind} programs (too old, or built without them${kind === 'lsm' ? ': CONFIG_BPF_LSM' : TRAMPOLINE.has(kind) ? ': CONFIG_FUNCTION_TRACER, CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS' : ''})`
        : 'the kernel refused the attach as invalid';
    case 19:
      return kind === 'perf_event' ? 'no such perf event on this machine (no PMU for it, or the CPU is offline)' : 'no such device';
    case 95:
    case 524:
      return TRAMPOLINE.has(kind)
        ? `this kernel does not support ${kind} programs (no BPF trampoline on this build or architecture${kind === 'lsm' ? ', or no BPF LSM' : ''})`
        : `this kernel does not support ${kind} programs`;
    case 38:
      return 'the bpf() system call is not in this kernel (CONFIG_BPF_SYSCALL)';
    default:
      return `the kernel answered ${ERRNO_NAMES[errno] ?? `errno ${errno}`} at ${stage}`;
  }
}

/** The C library this process maps (a uprobe needs a file and a function in it). */
function mappedLibc(maps = '/proc/self/maps'): string | undefined {
  try {
    return /\s(\/\S*\/libc\.so\.6)$/m.exec(readFileSync(maps, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Whether the BPF LSM is active (listed in securityfs); undefined when the list cannot be read
 * (securityfs not mounted). An LSM program attaches whatever this says, but runs only if it is.
 */
export function bpfLsmActive(path = LSM_LIST): boolean | undefined {
  try {
    return readFileSync(path, 'utf8').trim().split(',').includes('bpf');
  } catch {
    return undefined;
  }
}

function failure(kind: ProgramKind, stage: 'open' | 'load' | 'attach', e: unknown, privileged: boolean): Omit<KindProbe, 'ms'> {
  const errno = isEunomiaError(e) ? e.errno : undefined;
  const base = { kind, ok: false, stage, target: TARGET[kind] } as const;
  if (errno === undefined || stage === 'open') return { ...base, reason: (e as Error).message.split('\n')[0]! };
  return { ...base, errno, error: ERRNO_NAMES[errno] ?? `errno ${errno}`, reason: explainErrno(kind, stage, errno, privileged) };
}

async function probeOne(native: NativeBinding, kind: ProgramKind, path: string, privileged: boolean): Promise<KindProbe> {
  const t0 = performance.now();
  const ms = (): number => Math.round((performance.now() - t0) * 10) / 10;
  let obj: BpfObject;
  try {
    obj = BpfObject.open(native, path, `probe_${kind}`);
  } catch (e) {
    return { ...failure(kind, 'open', e, privileged), ms: ms() };
  }
  try {
    for (const p of obj.programs()) obj.setAutoload(p.name, p.name === PROGRAM[kind]);
    try {
      await obj.loadAsync();
    } catch (e) {
      return { ...failure(kind, 'load', e, privileged), ms: ms() };
    }
    try {
      if (kind === 'uprobe') {
        const libc = mappedLibc();
        if (!libc) return { kind, ok: false, stage: 'attach', target: TARGET[kind], reason: 'this process maps no libc.so.6 to probe: uprobes not tried', ms: ms() };
        obj.attachUprobe(PROGRAM[kind], { binary: libc, func: 'getpid', pid: process.pid });
      } else if (kind === 'perf_event') {
        obj.attachPerfEvent(PROGRAM[kind], { type: 1, config: 0, frequency: 1, cpus: [0] });
      } else {
        obj.attach(PROGRAM[kind]);
      }
    } catch (e) {
      return { ...failure(kind, 'attach', e, privileged), ms: ms() };
    }
    if (kind === 'lsm') {
      const active = bpfLsmActive();
      if (active === false) {
        return { kind, ok: false, stage: 'active', target: TARGET[kind], reason: `loads and attaches, but the BPF LSM is not active ("bpf" is not in ${LSM_LIST}): its programs would never run — boot with lsm=…,bpf`, ms: ms() };
      }
    }
    return { kind, ok: true, target: TARGET[kind], ms: ms() };
  } finally {
    // Detaching waits for RCU grace periods: on a worker thread. Awaited, so the figure is whole.
    await obj.close();
  }
}

/**
 * Probes every kind (or those asked) at once. Never throws for what the kernel refuses: each
 * answer is in the result. `objectPath` is the probe object (dist/bpf/probes.bpf.o).
 */
export async function probeProgramKinds(native: NativeBinding, opts: { kinds?: readonly ProgramKind[]; objectPath?: string } = {}): Promise<KindProbe[]> {
  const path = opts.objectPath ?? join(objectDir, PROBE_OBJECT);
  const privileged = hasBpfPrivileges();
  const kinds = opts.kinds ?? PROGRAM_KINDS;
  // libbpf parses the kernel's BTF (5 MB, ~11 MB in memory) for each BTF-typed kind: one after
  // another, the peak holds one parse (doctor's peak RSS 87-100 -> 72 MB, in the same time);
  // in parallel, on libuv's four threads, it held all four.
  const typed = kinds.filter((k) => TYPED_BY_BTF.has(k));
  const oneByOne = (async () => {
    const out: (readonly [ProgramKind, KindProbe])[] = [];
    for (const k of typed) out.push([k, await probeOne(native, k, path, privileged)]);
    return out;
  })();
  const others = kinds.filter((k) => !TYPED_BY_BTF.has(k)).map(async (k) => [k, await probeOne(native, k, path, privileged)] as const);
  const byKind = new Map([...(await oneByOne), ...(await Promise.all(others))]);
  const results = kinds.map((k) => byKind.get(k)!);
  // libbpf parses the kernel's BTF for the BTF-typed kinds (megabytes each): give it back.
  native.trimMemory();
  return results;
}
