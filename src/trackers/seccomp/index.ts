/**
 * seccomp: records which syscalls a container (or a command's cgroup) makes, with the arguments
 * that decide safety and the capabilities it checks — counted in the kernel per cgroup, read
 * without clearing (each report is the recording so far). src/seccomp/ makes profiles of it.
 */
import { capabilityName } from '../names/capabilities.js';
import { syscallName } from '../names/syscalls.js';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import type { IntervalSpec, OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import type { ArgUse, Gate } from '../../seccomp/types.js';
import type { RecordingsEntry, SeccompSlot } from './event.gen.js';
import { seccompMetrics } from './metrics.js';

/** One recorded cgroup: what it called so far. */
export type SeccompRow = {
  cgroup_id: number;
  /** Calls counted. */
  calls: number;
  /** Distinct syscalls. */
  distinct: number;
  syscalls: Record<string, number>;
  /** Numbers this build cannot name. */
  unnamed: number[];
  compat_calls: number;
  gate: Gate;
  args: ArgUse;
  capabilities: { used: string[]; denied: string[] };
};

/** The personas recorded by bit, in SECCOMP_PERSONA_* order (bpf/seccomp/seccomp.h). */
export const PERSONAS: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
const OTHER_PRCTL = 1;
const OTHER_PERSONALITY = 2;

/** The set bits of a 64-bit mask, as numbers from `base`. */
function bits(mask: number | bigint, base = 0): number[] {
  const m = BigInt(mask);
  const out: number[] = [];
  for (let b = 0; b < 64; b++) if ((m >> BigInt(b)) & 1n) out.push(base + b);
  return out;
}

/** A decoded map entry as a row. */
export function seccompRow(cgroup: number, v: SeccompSlot): SeccompRow {
  const syscalls: Record<string, number> = {};
  const unnamed: number[] = [];
  let calls = 0;
  v.counts.forEach((c, nr) => {
    const n = Number(c);
    if (!n) return;
    calls += n;
    const name = syscallName(nr);
    if (name.startsWith('syscall_')) unnamed.push(nr);
    else syscalls[name] = n;
  });
  const other = Number(v.other);
  const unrestricted: ArgUse['unrestricted'] = [];
  if (other & OTHER_PRCTL) unrestricted.push('prctl');
  if (other & OTHER_PERSONALITY) unrestricted.push('personality');
  return {
    cgroup_id: cgroup,
    calls,
    distinct: Object.keys(syscalls).length + unnamed.length,
    syscalls,
    unnamed,
    compat_calls: Number(v.compat_calls),
    // Calls counted with no filter in place: the container runs unconfined (see seccomp.bpf.c).
    gate: Number(v.exec_gate) ? 'exec' : 'filter',
    args: {
      cloneNamespaces: Number(v.clone_ns),
      unshareNamespaces: Number(v.unshare_ns),
      socketFamilies: bits(v.socket_families),
      prctlOptions: [...bits(v.prctl_options[0]!), ...bits(v.prctl_options[1]!, 64)],
      personalities: bits(v.personalities).map((b) => PERSONAS[b]!),
      unrestricted,
    },
    capabilities: { used: bits(v.caps_used).map(capabilityName), denied: bits(v.caps_denied).map(capabilityName) },
  };
}

const interval: IntervalSpec<SeccompRow, RecordingsEntry> = {
  map: 'recordings',
  seconds: 5,
  top: 0,
  sortBy: 'calls',
  // A recording is the whole time: never cleared. An exited container's entry stays too.
  keep: true,
  // An array of entries that name their cgroup; a free one (all zero) is not read.
  rows: (entries) => entries.map((e) => seccompRow(Number(e.value.cgroup_id), e.value)),
};

export const seccompTracker: TrackerDescriptor = {
  name: 'seccomp',
  summary: 'records the syscalls (with safety-relevant arguments) and capabilities a container uses, for a seccomp profile',
  object: 'seccomp.bpf.o',
  metrics: seccompMetrics,
  interval,
  optionalPrograms: ['record_capable'],
  examples: [
    'sudo eunomia run seccomp --container web -i 10      # what web calls so far, every 10 s',
    'sudo eunomia seccomp record --container web -o web.json   # the same, as a profile (docs/seccomp.md)',
  ],
  options: [],
  validate(o: OptionValues) {
    if (!o.container && !o.cgroup && !o.pid) {
      throw new EunomiaError(ErrorCodes.OPTION, 'tracker seccomp: record what? give --container NAME|ID, --cgroup ID or --pid PID (or use "eunomia seccomp record")');
    }
    if (o.hostOnly || o.containersOnly) throw new EunomiaError(ErrorCodes.OPTION, 'tracker seccomp: records chosen containers: --host-only and --containers-only would record every cgroup — use --container');
  },
  columns: [
    // Interval rows get no container column of their own: their container comes from cgroup_id.
    { key: 'container.name', header: 'CONTAINER', width: 12 },
    { key: 'cgroup_id', header: 'CGROUP', width: 8 },
    { key: 'distinct', header: 'SYSCALLS', width: 8 },
    { key: 'calls', header: 'CALLS', width: 10 },
    { key: 'gate', header: 'GATE', width: 6 },
    { key: 'capabilities', header: 'CAPABILITIES', format: (v) => (v as SeccompRow['capabilities']).used.join(',') },
  ],
} satisfies TrackerDescriptor<SeccompRow, RecordingsEntry>;
