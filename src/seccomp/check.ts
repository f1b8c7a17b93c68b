/**
 * Checks of a profile (already valid: readProfile): (a) base-list syscalls it refuses — the
 * container may not start; (b) with `against` (a recording's profile, or another profile), what
 * that workload used that this profile refuses; (c) dangerous syscalls it allows without
 * argument restriction, as warnings.
 */
import { BASE_PRCTL_OPTIONS, BASE_SYSCALLS } from './base.js';
import { argItems, missing, usageOf } from './diff.js';
import { CLONE_NAMESPACES, UNSHARE_NAMESPACES } from './profile.js';
import { allowing, allowsAnyArgs, namespacesAllowed, verdict } from './read.js';
import { namespaceNames, prctlName } from './summary.js';
import type { DockerProfile } from './types.js';

/**
 * Syscalls a container should not have without a reason, and why (Docker's default refuses most).
 * adjtimex and clock_adjtime are left out: programs call them to read the clock's state, and
 * changing it needs CAP_SYS_TIME.
 */
const DANGEROUS: Record<string, string> = {
  mount: 'mounts filesystems (with CAP_SYS_ADMIN, a way out of the container)',
  umount2: 'unmounts filesystems, e.g. what masks paths under /proc',
  pivot_root: 'changes the root filesystem',
  fsopen: 'the new mount API: mounts as mount(2) does',
  fsconfig: 'the new mount API: mounts as mount(2) does',
  fsmount: 'the new mount API: mounts as mount(2) does',
  fspick: 'the new mount API: reconfigures mounts',
  move_mount: 'the new mount API: moves mounts',
  open_tree: 'the new mount API: clones mount trees',
  open_tree_attr: 'the new mount API: clones mount trees',
  mount_setattr: 'changes mount flags (e.g. read-only off)',
  setns: 'joins other namespaces',
  ptrace: "reads and writes other processes (and bypassed seccomp before Linux 4.8)",
  process_vm_readv: "reads another process's memory",
  process_vm_writev: "writes another process's memory",
  pidfd_getfd: "takes another process's file descriptors",
  kcmp: 'compares kernel objects of processes (a kernel address oracle)',
  bpf: 'loads eBPF programs into the kernel',
  perf_event_open: 'kernel performance events: a source of kernel information leaks and bugs',
  userfaultfd: 'stalls page faults in the kernel: a classic kernel-exploit tool',
  keyctl: 'the kernel keyring is not namespaced',
  add_key: 'the kernel keyring is not namespaced',
  request_key: 'the kernel keyring is not namespaced',
  kexec_load: 'loads a new kernel',
  kexec_file_load: 'loads a new kernel',
  init_module: 'loads kernel modules',
  finit_module: 'loads kernel modules',
  delete_module: 'unloads kernel modules',
  create_module: 'kernel modules (obsolete)',
  open_by_handle_at: 'opens files by handle, around the mount namespace (the "shocker" escape)',
  io_uring_setup: "io_uring runs operations seccomp never sees, and is a frequent source of kernel bugs",
  io_uring_enter: "io_uring runs operations seccomp never sees, and is a frequent source of kernel bugs",
  io_uring_register: "io_uring runs operations seccomp never sees, and is a frequent source of kernel bugs",
  reboot: 'reboots the host (or the PID namespace)',
  swapon: 'changes host swap',
  swapoff: 'changes host swap',
  syslog: "reads the kernel's log (kernel addresses)",
  acct: 'turns process accounting on or off for the host',
  iopl: 'raw I/O port access',
  ioperm: 'raw I/O port access',
  settimeofday: 'sets the host clock (time is not namespaced)',
  clock_settime: 'sets the host clock (time is not namespaced)',
  lookup_dcookie: 'kernel profiling internals',
  quotactl: 'manipulates host disk quotas',
  _sysctl: 'changes kernel parameters (obsolete)',
  nfsservctl: 'kernel NFS server (obsolete)',
  uselib: 'loads a shared library the obsolete way',
};

export interface CheckResult {
  /** Problems that stop the container: base-list calls refused. */
  errors: string[];
  /** Dangerous calls allowed, a default that refuses nothing, calls the recordings could not put in the profile. */
  warnings: string[];
  /** With `against`: what its workload used that this profile refuses, one item each. */
  loses: string[];
  text: string;
}

const s = (n: number): string => (n === 1 ? '' : 's');

function baseErrors(p: DockerProfile): string[] {
  const errors: string[] = [];
  for (const b of BASE_SYSCALLS) {
    if (verdict(p, b.name).allowed) continue;
    errors.push(`${b.name} is refused, but ${b.runtimes.join(' and ')} call${b.runtimes.length === 1 ? 's' : ''} it after installing the filter (${b.reason})`);
  }
  if (verdict(p, 'prctl').allowed) {
    for (const o of BASE_PRCTL_OPTIONS) {
      if (verdict(p, 'prctl', { 0: o.option }).allowed) continue;
      errors.push(`prctl ${prctlName(o.option)} is refused, but ${o.runtimes.join(' and ')} pass${o.runtimes.length === 1 ? 'es' : ''} it after installing the filter (${o.reason})`);
    }
  }
  return errors;
}

function dangerWarnings(p: DockerProfile): string[] {
  const warnings: string[] = [];
  for (const [name, why] of Object.entries(DANGEROUS)) {
    if (allowsAnyArgs(p, name)) warnings.push(`${name} is allowed without argument restriction: ${why}`);
  }
  for (const [name, all] of [['clone', CLONE_NAMESPACES], ['unshare', UNSHARE_NAMESPACES]] as const) {
    if (!verdict(p, name).allowed) continue;
    if (allowsAnyArgs(p, name)) warnings.push(`${name} is allowed without namespace restriction: it may create any namespace (new user namespaces open kernel attack surface)`);
    else {
      const ns = namespacesAllowed(p, name, all);
      if (ns) warnings.push(`${name} may create namespaces: ${namespaceNames(ns)}`);
    }
  }
  if (verdict(p, 'clone3').allowed) warnings.push('clone3 is allowed: its flags are in memory a filter cannot read, so it may create any namespace');
  if (allowsAnyArgs(p, 'personality')) warnings.push('personality is allowed with any persona: some (READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE) weaken memory protections');
  return warnings;
}

function otherWarnings(p: DockerProfile): string[] {
  const warnings: string[] = [];
  if (allowing(p.defaultAction)) {
    warnings.push(`the default action is ${p.defaultAction}: every call not listed runs${p.defaultAction === 'SCMP_ACT_LOG' ? ' (and is logged)' : ''}, so the profile refuses nothing it does not name`);
  }
  const prov = p.eunomia;
  if (prov?.compatCalls) warnings.push(`the workload made ${prov.compatCalls} call${s(prov.compatCalls)} through the 32-bit ABI (int 0x80) or x32: this x86-64 profile refuses them`);
  if (prov?.unnamed.length) warnings.push(`the workload called syscall numbers with no name (${prov.unnamed.join(', ')}): the profile cannot list them, so they are refused`);
  return warnings;
}

/** The checks of a profile; with `against`, what that workload would lose under it. */
export function check(profile: DockerProfile, against?: DockerProfile): CheckResult {
  // A profile recorded from commands only is run by `eunomia seccomp run`, not by a container
  // runtime: the runtimes' base list does not apply (record leaves it out).
  const runs = profile.eunomia?.runs ?? [];
  const commandsOnly = runs.length > 0 && runs.every((r) => r.target.kind === 'command');
  const errors = commandsOnly ? [] : baseErrors(profile);
  const warnings = [...dangerWarnings(profile), ...otherWarnings(profile)];
  let loses: string[] = [];
  if (against) {
    const m = missing(profile, usageOf(against));
    loses = [...m.syscalls.map((n) => `syscall ${n}`), ...argItems(m.args)];
  }
  const lines: string[] = [];
  if (errors.length) lines.push(`Errors — the container may not start (${errors.length}):`, ...errors.map((e) => `  ${e}`));
  if (warnings.length) lines.push(`Warnings (${warnings.length}):`, ...warnings.map((w) => `  ${w}`));
  if (against) {
    lines.push(loses.length ? `What the workload would lose — it used these, the profile refuses them (${loses.length}):` : 'What the workload would lose: nothing — the profile allows everything it used.');
    lines.push(...loses.map((l) => `  ${l}`));
  }
  if (!errors.length && !warnings.length && !loses.length) lines.unshift('No problem found.');
  return { errors, warnings, loses, text: lines.join('\n') + '\n' };
}
