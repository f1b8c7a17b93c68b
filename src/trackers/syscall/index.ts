/** syscall: which syscalls each process uses and how often (raw_tp/sys_enter, counted in the kernel). */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { commonColumns as c } from '../common.js';
import { syscallName, syscallNumber } from '../names/syscalls.js';
import type { MapEntry, OptionValues, TrackerDescriptor } from '../types.js';

/** `--syscall` takes a name (or a number); the kernel compares numbers. */
export function syscallFilter(v: unknown): number {
  const s = String(v).trim();
  const nr = /^\d+$/.test(s) ? Number(s) : syscallNumber(s);
  if (nr === undefined || nr > 1023) {
    throw new EunomiaError(ErrorCodes.OPTION, `tracker syscall: option syscall: unknown syscall "${s}" (x86-64 names, e.g. openat, getppid)`);
  }
  return nr;
}

/**
 * Interval rows; none with --first-only (the counts are still kept, as a cache in the kernel).
 * With -p the map is indexed by syscall number alone (`pid_counts`), the pid is the option's.
 */
function rows(entries: MapEntry[], options: OptionValues): Record<string, unknown>[] {
  if (options.firstOnly) return [];
  return entries.map(({ key, value }) => ({
    type: 'count',
    ...(typeof key === 'number' ? { pid: options.pid, syscall_raw: key } : (key as object)),
    ...(value as object),
  }));
}

export const syscallTracker: TrackerDescriptor = {
  name: 'syscall',
  summary: 'syscalls each process uses: an event on first use, counts per process and syscall every interval',
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
      toGlobal: (v) => BigInt(syscallFilter(v)),
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
  },
};
