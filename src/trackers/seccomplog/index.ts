/**
 * seccomplog: what a workload running under a seccomp profile in log mode does outside it —
 * calls the profile would refuse (by syscall, or by the argument that decides), and capability
 * checks outside the capabilities its recording used. The log-mode filter lets those calls run
 * (and the kernel's audit log may note them); this names the container and process of each.
 */
import { readFileSync } from 'node:fs';
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import { capabilityName, capabilityNumber } from '../names/capabilities.js';
import { PERSONAS } from '../seccomp/index.js';
import { addressFamilyName } from '../names/socket-names.js';
import { cloneFlags } from '../names/clone.js';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import type { OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import {
  allowedValues, allowsAnyArgs, FAMILY_CANDIDATES, knownSyscallName, namespacesAllowed, PRCTL_CANDIDATES, readProfile, verdict,
} from '../../seccomp/read.js';
import { UNSHARE_NAMESPACES } from '../../seccomp/profile.js';
import type { DockerProfile } from '../../seccomp/types.js';
import type { SeccomplogEvent } from './event.gen.js';
import { seccomplogMetrics } from './metrics.js';

const MAX_NR = 512;
const KINDS = ['', 'syscall', 'argument', 'capability'] as const;

/** An event with its names. */
export type SeccomplogData = SeccomplogEvent & {
  /** What is outside the profile: a syscall, an argument of one it allows, or a capability. */
  outside: (typeof KINDS)[number];
  syscall?: string;
  capability?: string;
  /** The argument in words (an address family, namespace flags …). */
  arg_text?: string;
};

/** The profile given to --profile: a file, or the JSON itself (the API may send it inline). */
function loadProfile(v: string): DockerProfile {
  if (v.trimStart().startsWith('{')) return readProfile(v, '--profile');
  let text: string;
  try {
    text = readFileSync(v, 'utf8');
  } catch (e) {
    throw new EunomiaError(ErrorCodes.OPTION, `tracker seccomplog: option profile: cannot read ${v}: ${(e as Error).message}`);
  }
  return readProfile(text, v);
}

/** A 64-bit word array with the given bit numbers set (as bigints: bit 63 is beyond a double's integers). */
function bitWords(bits: Iterable<number>, count: number): bigint[] {
  const out = Array.from({ length: count }, () => 0n);
  for (const b of bits) if (b >= 0 && b < count * 64) out[b >> 6] = out[b >> 6]! | (1n << BigInt(b & 63));
  return out;
}

/**
 * The kernel side's view of a profile (struct seccomplog_profile): what it would allow were it
 * enforcing — its LOG actions (a log-mode profile's default, or rules) count as refusals.
 */
export function profileGlobal(p: DockerProfile): Record<string, unknown> {
  const strict: DockerProfile = {
    ...p,
    defaultAction: p.defaultAction === 'SCMP_ACT_LOG' ? 'SCMP_ACT_ERRNO' : p.defaultAction,
    syscalls: p.syscalls.map((r) => (r.action === 'SCMP_ACT_LOG' ? { ...r, action: 'SCMP_ACT_ERRNO' } : r)),
  };
  const allowed: number[] = [];
  const anyArgs: number[] = [];
  for (let nr = 0; nr < MAX_NR; nr++) {
    const name = knownSyscallName(nr);
    if (!name || !verdict(strict, name).allowed) continue;
    allowed.push(nr);
    if (allowsAnyArgs(strict, name)) anyArgs.push(nr);
  }
  const caps = p.eunomia?.capabilities.used;
  const capBits = (caps ?? []).map(capabilityNumber).filter((n) => n >= 0);
  return {
    allowed: bitWords(allowed, MAX_NR / 64),
    any_args: bitWords(anyArgs, MAX_NR / 64),
    clone_ns: namespacesAllowed(strict, 'clone', UNSHARE_NAMESPACES),
    unshare_ns: namespacesAllowed(strict, 'unshare', UNSHARE_NAMESPACES),
    socket_families: bitWords(allowedValues(strict, 'socket', FAMILY_CANDIDATES), 1)[0],
    prctl_options: bitWords(allowedValues(strict, 'prctl', PRCTL_CANDIDATES), 2),
    personalities: PERSONAS.reduce((m, v, i) => (verdict(strict, 'personality', { 0: v }).allowed ? m | (1 << i) : m), 0),
    caps: bitWords(capBits, 1)[0],
    // Only a profile that says which capabilities its workload used can say which are outside.
    check_caps: caps ? 1 : 0,
  };
}

function argText(nr: number, arg: number): string {
  if (nr === 41) return addressFamilyName(arg);
  if (nr === 56 || nr === 272) return cloneFlags(arg);
  return `0x${arg.toString(16)}`;
}

export const seccomplogTracker: TrackerDescriptor = {
  name: 'seccomplog',
  summary: 'what a workload under a log-mode seccomp profile does outside it: syscalls, arguments, capabilities',
  object: 'seccomplog.bpf.o',
  metrics: seccomplogMetrics,
  event: { struct: 'seccomplog_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  // It needs the profile the workload runs under: its rule (seccomp_profile_violation) applies
  // to the instances started with one.
  startedByRules: false,
  // capability:cap_capable is 6.14's: elsewhere capability checks are not watched.
  optionalPrograms: ['log_capable'],
  examples: [
    'sudo eunomia run seccomplog --container web --profile web-log.json   # web runs with --security-opt seccomp=web-log.json',
    'sudo eunomia seccomp run --profile tool.json --mode log -- ./tool     # a command, in a cgroup of its own',
  ],
  options: [
    {
      name: 'profile',
      flag: 'profile',
      type: 'string',
      arg: 'FILE',
      description: 'the seccomp profile the workload runs under (Docker/OCI JSON: a file, or the JSON itself)',
      global: 'profile',
      toGlobal: (v) => profileGlobal(loadProfile(String(v))),
    },
  ],
  validate(o: OptionValues) {
    if (!o.profile) throw new EunomiaError(ErrorCodes.OPTION, 'tracker seccomplog: --profile FILE is needed: the profile the workload runs under');
    if (!o.container && !o.cgroup && !o.pid && !o.containersOnly && !o.hostOnly) {
      throw new EunomiaError(ErrorCodes.OPTION, 'tracker seccomplog: which workload? give --container NAME|ID, --cgroup ID, --pid PID or --containers-only');
    }
  },
  format(d) {
    const data = d as SeccomplogData;
    data.outside = KINDS[d.kind] ?? '';
    if (d.kind === 3) data.capability = capabilityName(d.cap);
    else {
      data.syscall = knownSyscallName(d.nr) ?? `syscall_${d.nr}`;
      if (d.kind === 2) data.arg_text = argText(d.nr, Number(d.arg));
    }
  },
  columns: [
    { key: 'outside', header: 'OUTSIDE', width: 10 },
    { key: 'syscall', header: 'SYSCALL', width: 16 },
    { key: 'arg_text', header: 'ARG', width: 12 },
    { key: 'capability', header: 'CAPABILITY', width: 20 },
    c.pid,
    c.comm,
  ],
} satisfies TrackerDescriptor<SeccomplogEvent>;
