/**
 * What `eunomia doctor` reads about the host, each from where the kernel says it: the kernel's
 * release and config, BTF, tracefs, cgroups, this process's capabilities and memlock limit.
 * Read-only: nothing is mounted or changed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { machine, release, version } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { VMLINUX_BTF } from '../core/kernel.js';
import { cgroup2Root } from '../containers/cgroup.js';

/** Linux capability numbers (linux/capability.h), 0…40: a fixed table, as the kernel's own. */
export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** The capabilities Eunomia uses, and for what (reported when missing). */
export const CAPABILITIES_USED: Readonly<Record<string, string>> = {
  CAP_BPF: 'load eBPF programs and make maps (or CAP_SYS_ADMIN)',
  CAP_PERFMON: 'attach tracing programs, perf events (or CAP_SYS_ADMIN)',
  CAP_SYS_ADMIN: 'mount tracefs when it is not mounted; the BPF calls on kernels before 5.8',
  CAP_SYS_PTRACE: "read other processes' executables and namespaces (/proc/PID/exe, root, ns) for containers and symbols",
  CAP_DAC_READ_SEARCH: "read other users' /proc and files for names and symbols",
  CAP_SYS_RESOURCE: 'raise the memlock limit, which kernels before 5.11 charge eBPF maps to',
};

export interface Capabilities {
  /** CapEff of /proc/self/status, in hex as the kernel prints it. */
  effectiveHex: string;
  /** Their names (unknown bits as CAP_<n>). */
  effective: string[];
  /** Of CAPABILITIES_USED, those this process lacks, with what they are for. */
  missing: { name: string; usedFor: string }[];
}

export function capabilities(status = '/proc/self/status'): Capabilities {
  let hex = '0';
  try {
    hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'))?.[1] ?? '0';
  } catch {
    // no /proc: nothing known, all reported missing
  }
  const bits = BigInt('0x' + hex);
  const effective: string[] = [];
  for (let i = 0; i < 64; i++) if (bits & (1n << BigInt(i))) effective.push(CAPABILITY_NAMES[i] ?? `CAP_${i}`);
  const missing = Object.entries(CAPABILITIES_USED)
    .filter(([name]) => !effective.includes(name))
    .map(([name, usedFor]) => ({ name, usedFor }));
  return { effectiveHex: hex, effective, missing };
}

export interface Memlock {
  /** Bytes, or null for unlimited. */
  soft: number | null;
  hard: number | null;
  /** Whether the kernel charges eBPF memory to this limit (before 5.11) or to the memory cgroup. */
  charged: boolean;
}

/** Kernel release as numbers ("6.1.0-18-amd64" → [6, 1]). */
export function releaseNumbers(rel = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function memlock(limits = '/proc/self/limits', rel = release()): Memlock {
  let soft: number | null = null;
  let hard: number | null = null;
  try {
    const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(readFileSync(limits, 'utf8'));
    if (m) {
      soft = m[1] === 'unlimited' ? null : Number(m[1]);
      hard = m[2] === 'unlimited' ? null : Number(m[2]);
    }
  } catch {
    // unknown: reported as unlimited would be a guess; keep null and say so in charged's note
  }
  const [maj, min] = releaseNumbers(rel);
  // Since 5.11 eBPF maps and programs are charged to the memory cgroup, not RLIMIT_MEMLOCK.
  return { soft, hard, charged: maj < 5 || (maj === 5 && min < 11) };
}

export interface KernelFacts {
  release: string;
  version: string;
  arch: string;
  /** Where its build config was read (/proc/config.gz, /boot/config-<release>), or null. */
  configFrom: string | null;
  /** The options that decide what eBPF can do here: "y", a string, or null (not set). */
  config: Record<string, string | null>;
}

const CONFIG_KEYS = [
  'CONFIG_BPF_SYSCALL', 'CONFIG_BPF_JIT', 'CONFIG_DEBUG_INFO_BTF', 'CONFIG_KPROBES', 'CONFIG_KPROBE_EVENTS', 'CONFIG_UPROBE_EVENTS',
  'CONFIG_FUNCTION_TRACER', 'CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS', 'CONFIG_BPF_LSM', 'CONFIG_LSM', 'CONFIG_CGROUPS', 'CONFIG_BPF_EVENTS',
];

function readConfig(rel: string): { from: string; text: string } | undefined {
  try {
    return { from: '/proc/config.gz', text: gunzipSync(readFileSync('/proc/config.gz')).toString('utf8') };
  } catch {
    // not built with IKCONFIG_PROC
  }
  const boot = `/boot/config-${rel}`;
  try {
    return { from: boot, text: readFileSync(boot, 'utf8') };
  } catch {
    return undefined;
  }
}

export function kernelFacts(): KernelFacts {
  const rel = release();
  const cfg = readConfig(rel);
  const config: Record<string, string | null> = {};
  if (cfg) {
    for (const key of CONFIG_KEYS) {
      const m = new RegExp(`^${key}=(.*)$`, 'm').exec(cfg.text);
      config[key] = m ? m[1]!.replace(/^"(.*)"$/, '$1') : null;
    }
  }
  return { release: rel, version: version(), arch: machine(), configFrom: cfg?.from ?? null, config };
}

export interface BtfFacts {
  path: string;
  present: boolean;
  bytes?: number;
}

export function btfFacts(path = VMLINUX_BTF): BtfFacts {
  try {
    return { path, present: true, bytes: statSync(path).size };
  } catch {
    return { path, present: false };
  }
}

const TRACEFS = ['/sys/kernel/tracing', '/sys/kernel/debug/tracing'];

export interface TracefsFacts {
  /** Where it is mounted, or null. */
  path: string | null;
  /** Whether this process can read its events (tracefs is root's alone by default). */
  readable: boolean;
  kprobeEvents: boolean;
  uprobeEvents: boolean;
  /** Tracepoints it lists: name → categories (a raw or BTF tracepoint is named without its category). */
  tracepoints: Map<string, string[]>;
}

export function tracefsFacts(): TracefsFacts {
  const path = tracefsMount() ?? null;
  const readable = path !== null && existsSync(`${path}/events`);
  const tracepoints = new Map<string, string[]>();
  if (readable) {
    for (const cat of safeReaddir(`${path}/events`)) {
      for (const name of safeReaddir(`${path}/events/${cat}`)) {
        if (name === 'enable' || name === 'filter') continue;
        const cats = tracepoints.get(name);
        if (cats) cats.push(cat);
        else tracepoints.set(name, [cat]);
      }
    }
  }
  return {
    path,
    readable,
    kprobeEvents: path !== null && existsSync(`${path}/kprobe_events`),
    uprobeEvents: path !== null && existsSync(`${path}/uprobe_events`),
    tracepoints,
  };
}

/** Where tracefs is mounted (one of the two usual places first), from the mount table. */
function tracefsMount(mountinfo = '/proc/self/mountinfo'): string | undefined {
  let points: string[] = [];
  try {
    points = readFileSync(mountinfo, 'utf8')
      .split('\n')
      .filter((l) => / - tracefs /.test(l))
      .map((l) => l.split(' ')[4]!);
  } catch {
    return TRACEFS.find((p) => existsSync(`${p}/events`));
  }
  return TRACEFS.find((p) => points.includes(p)) ?? points[0];
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

export interface CgroupFacts {
  /** v2: the unified hierarchy alone; hybrid: v1 controllers and v2 beside; v1: no v2 at all. */
  version: 'v2' | 'hybrid' | 'v1' | 'none';
  /** Where the v2 hierarchy is mounted (containers are told apart by their v2 cgroup). */
  v2Root: string | null;
}

export function cgroupFacts(mountinfo = '/proc/self/mountinfo'): CgroupFacts {
  const v2Root = cgroup2Root(mountinfo) ?? null;
  let v1 = false;
  try {
    v1 = readFileSync(mountinfo, 'utf8').split('\n').some((l) => l.includes(' - cgroup '));
  } catch {
    // no mountinfo
  }
  return { version: v2Root ? (v1 ? 'hybrid' : 'v2') : v1 ? 'v1' : 'none', v2Root };
}

/** The active security modules (securityfs), or null when it cannot be read. */
export function activeLsms(path = '/sys/kernel/security/lsm'): string[] | null {
  try {
    return readFileSync(path, 'utf8').trim().split(',').filter(Boolean);
  } catch {
    return null;
  }
}
