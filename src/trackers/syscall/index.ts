/** syscall: which syscalls each process uses and how often (raw_tp/sys_enter, counted in the kernel). */
import { cgroupIdOfPid } from '../../containers/cgroup.js';
import { commonColumns as c } from '../common.js';
import { parseSyscallOption, syscallName } from '../names/syscalls.js';
import type { OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { syscallMetrics, syscallOriginalMetrics } from './metrics.js';
import type { CountsEntry, PidCountsEntry, SyscallCount, SyscallEvent, SyscallKey } from './event.gen.js';

/** A first use (an event) or an interval's count (a row); format names the syscall. */
export type SyscallData = (
  | (SyscallEvent & { type?: 'first_use' })
  | (SyscallKey & SyscallCount & { type: 'count'; cgroup_id?: number | bigint })
) & { syscall?: string };

/**
 * Interval rows; none with --first-only (the counts are still kept, as a cache in the kernel).
 * With -p the map is indexed by syscall number alone (`pid_counts`), the pid is the option's.
 */
function rows(entries: (CountsEntry | PidCountsEntry)[], options: OptionValues): SyscallData[] {
  if (options.firstOnly) return [];
  return entries.map(({ key, value }) => ({
    type: 'count',
    ...(typeof key === 'number' ? { pid: Number(options.pid), syscall_raw: key } : key),
    ...value,
  }));
}

export const syscallTracker: TrackerDescriptor = {
  name: 'syscall',
  summary: 'syscalls each process uses: an event on first use, counts per process and syscall every interval',
  metrics: syscallMetrics,
  originalMetrics: syscallOriginalMetrics,
  object: 'syscall.bpf.o',
  event: { struct: 'syscall_event', map: 'events' },
  interval: { map: 'counts', mapFor: (o) => (o.pid ? 'pid_counts' : 'counts'), seconds: 3, top: 20, sortBy: 'count', rows },
  options: [
    {
      name: 'firstOnly',
      flag: 'first-only',
      type: 'bool',
      default: false,
      description: 'only the first-use events, no interval counts',
    },
    {
      name: 'syscall',
      flag: 'syscall',
      type: 'string',
      arg: 'NAME',
      description: 'only this syscall (x86-64 name, e.g. openat; in-kernel filter)',
      global: 'target_nr',
      toGlobal: (v) => BigInt(parseSyscallOption('syscall', v, 1024)),
    },
  ],
  columns: [
    { key: 'type', header: 'EVENT', width: 9 },
    c.pid,
    c.comm,
    { key: 'syscall', header: 'SYSCALL', width: 20 },
    { key: 'count', header: 'COUNT', width: 10 },
  ],
  format: (data) => {
    data.syscall = syscallName(Number(data.syscall_raw));
    data.type ??= 'first_use';
    // Count rows are kept per pid in the kernel; their cgroup (for the container) is read
    // here, for the reported rows only, while the process lives.
    if (data.type === 'count' && typeof data.pid === 'number') {
      const cg = cgroupIdOfPid(data.pid);
      if (cg !== undefined) data.cgroup_id = cg;
    }
  },
} satisfies TrackerDescriptor<SyscallData, CountsEntry | PidCountsEntry>;
