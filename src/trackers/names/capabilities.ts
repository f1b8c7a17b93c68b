/** Capability names (include/uapi/linux/capability.h). */
const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export function capabilityName(n: number): string {
  return CAPS[n] ?? `CAP_${n}`;
}

/** The number of a capability name ("CAP_CHOWN" → 0), or -1. */
export function capabilityNumber(name: string): number {
  const i = CAPS.indexOf(name);
  return i >= 0 ? i : /^CAP_(\d+)$/.test(name) ? Number(name.slice(4)) : -1;
}

// Exec events repeat a handful of capability sets (root's, a container's default, none).
const lists = new Map<bigint, readonly string[]>();

/** The names of the capabilities set in a capability mask (bit n = capability n), frozen and shared. */
export function capabilityList(mask: bigint | number): readonly string[] {
  const m = BigInt(mask);
  let out = lists.get(m);
  if (!out) {
    const names: string[] = [];
    for (let bit = 0; bit < 64; bit++) if ((m >> BigInt(bit)) & 1n) names.push(capabilityName(bit));
    out = Object.freeze(names);
    if (lists.size >= 256) lists.clear();
    lists.set(m, out);
  }
  return out;
}
