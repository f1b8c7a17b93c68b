/** syscount: syscall counts (and latency) per interval, by syscall or by process. */
import { commonColumns as c } from '../common.js';
import { parseSyscallOption, syscallName } from '../names/syscalls.js';
import type { IntervalSpec, OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { syscountMetrics } from './metrics.js';
import { cgroupIdOfPid } from '../../containers/cgroup.js';
import type { ProcessesEntry, SyscallsEntry } from './event.gen.js';

/** A duration in ns as the table shows it: "312ns", "12.3us", "4.56ms", "2.01s". */
export function durationText(ns: unknown): string {
  if (typeof ns !== 'number' && typeof ns !== 'bigint') return '';
  const n = Number(ns);
  if (n < 1e3) return `${n}ns`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}us`;
  return n < 1e9 ? `${(n / 1e6).toFixed(2)}ms` : `${(n / 1e9).toFixed(2)}s`;
}

/** A row: by syscall (number and name) or by process (pid, comm, and the syscall --syscall chose); format adds the cgroup. */
export type SyscountData = {
  pid?: number;
  comm?: string;
  nr?: number;
  syscall?: string;
  count: number | bigint;
  total_ns?: number | bigint;
  avg_ns?: number;
  cgroup_id?: number;
};

/** By process (--by-process) the entries are the processes map's, keyed by tgid; else the syscalls map's, by number. */
const byProcess = (e: SyscallsEntry | ProcessesEntry): e is ProcessesEntry => typeof e.key !== 'number';

function rows(entries: (SyscallsEntry | ProcessesEntry)[], options: OptionValues): SyscountData[] {
  const latency = options.latency === true;
  // By process, rows name the syscall only when --syscall chose one.
  const only = options.syscall === undefined ? {} : { syscall: syscallName(parseSyscallOption('syscount', options.syscall, 512)) };
  return entries.map((e) => {
    const { count, total_ns } = e.value;
    const row: SyscountData = byProcess(e) ? { pid: e.key.pid, comm: e.value.comm, ...only, count } : { nr: e.key, syscall: syscallName(e.key), count };
    if (latency) {
      row.total_ns = total_ns;
      row.avg_ns = count ? Math.round(Number(total_ns) / Number(count)) : 0;
    }
    return row;
  });
}

/** The map that holds this mode's counts: a per-CPU array by syscall number, or a per-CPU hash by tgid. */
const interval: IntervalSpec<SyscountData, SyscallsEntry | ProcessesEntry> = {
  map: 'syscalls',
  mapFor: (o) => (o.byProcess ? 'processes' : 'syscalls'),
  seconds: 3,
  top: 10,
  sortBy: 'count',
  rows,
};

export const syscountTracker: TrackerDescriptor = {
  name: 'syscount',
  summary: 'syscall counts per interval, by syscall or by process, with latency (-L) and failures only (-x)',
  metrics: syscountMetrics,
  object: 'syscount.bpf.o',
  interval,
  // Only what the options need runs on every syscall: sys_exit is attached for -x and -L only.
  programs: (o) => (o.latency ? ['stamp_enter', 'count_exit'] : o.failed ? ['count_exit'] : ['count_enter']),
  options: [
    { name: 'byProcess', flag: 'by-process', short: 'P', type: 'bool', default: false, description: 'count by process (pid and comm) instead of by syscall', global: 'by_process' },
    { name: 'latency', flag: 'latency', short: 'L', type: 'bool', default: false, description: 'also measure time spent in the calls (attaches sys_exit too)', global: 'with_latency' },
    { name: 'failed', flag: 'failed', short: 'x', type: 'bool', default: false, description: 'only count calls that failed (returned an error)', global: 'failed_only' },
    { name: 'syscall', flag: 'syscall', type: 'string', arg: 'NAME', description: 'only this syscall (name or number, in-kernel filter)', global: 'target_nr', toGlobal: (v) => parseSyscallOption('syscount', v, 512) },
  ],
  // By process: the cgroup (for the container) of the reported rows, read while the process lives.
  format(d) {
    if (typeof d.pid !== 'number') return;
    const cg = cgroupIdOfPid(d.pid);
    if (cg !== undefined) d.cgroup_id = cg;
  },
  columns: [
    { key: 'syscall', header: 'SYSCALL', width: 16, format: (v) => (v === undefined ? '*' : String(v)) },
    { key: 'count', header: 'COUNT', width: 10 },
    { key: 'total_ns', header: 'TOTAL', width: 10, format: durationText },
    { key: 'avg_ns', header: 'AVG', width: 9, format: durationText },
    c.pid,
    c.comm,
  ],
} satisfies TrackerDescriptor<SyscountData, SyscallsEntry | ProcessesEntry>;
