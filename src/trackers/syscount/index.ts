/** syscount: syscall counts (and latency) per interval, by syscall or by process. */
import { commonColumns as c } from '../common.js';
import { parseSyscallOption, syscallName } from '../names/syscalls.js';
import type { IntervalSpec, MapEntry, OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { syscountMetrics } from './metrics.js';
import { cgroupIdOfPid } from '../../containers/cgroup.js';

/** A duration in ns as the table shows it: "312ns", "12.3us", "4.56ms", "2.01s". */
export function durationText(ns: unknown): string {
  if (typeof ns !== 'number' && typeof ns !== 'bigint') return '';
  const n = Number(ns);
  if (n < 1e3) return `${n}ns`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}us`;
  return n < 1e9 ? `${(n / 1e6).toFixed(2)}ms` : `${(n / 1e9).toFixed(2)}s`;
}

interface Counts {
  count: number;
  total_ns: number;
  comm?: string;
}

function rows(entries: MapEntry[], options: OptionValues): Record<string, unknown>[] {
  const latency = options.latency === true;
  // By process, rows name the syscall only when --syscall chose one.
  const only = options.syscall === undefined ? {} : { syscall: syscallName(parseSyscallOption('syscount', options.syscall, 512)) };
  return entries.map(({ key, value }) => {
    const v = value as Counts;
    const row: Record<string, unknown> = options.byProcess
      ? { pid: (key as { pid: number }).pid, comm: v.comm, ...only }
      : { nr: key as number, syscall: syscallName(key as number) };
    row.count = v.count;
    if (latency) {
      row.total_ns = v.total_ns;
      row.avg_ns = v.count ? Math.round(Number(v.total_ns) / v.count) : 0;
    }
    return row;
  });
}

/** The map that holds this mode's counts: a per-CPU array by syscall number, or a per-CPU hash by tgid. */
const interval: IntervalSpec = {
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
};
