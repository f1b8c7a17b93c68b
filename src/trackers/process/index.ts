/** process: exec and exit of every process (sched tracepoints). */
import { commonColumns as c, LOW_RATE_RING, shellJoin } from '../common.js';
import type { TrackerDescriptor } from '../types.js';

const ms = (v: unknown): string => (typeof v === 'number' && v > 0 ? (v / 1e6).toFixed(1) : '');

export const processTracker: TrackerDescriptor = {
  name: 'process',
  summary: 'process exec and exit: pid, ppid, uid, path, args, exit code, lifetime, cgroup and namespaces',
  object: 'process.bpf.o',
  event: { struct: 'process_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  options: [
    {
      name: 'minDuration',
      flag: 'min-duration',
      type: 'uint',
      arg: 'MS',
      description: 'only processes that lived at least MS milliseconds (reports exits only)',
      global: 'min_duration_ns',
      toGlobal: (v) => BigInt(v as number) * 1_000_000n,
      max: 2 ** 40,
    },
  ],
  columns: [
    { key: 'type', header: 'EVENT', width: 5 },
    c.pid,
    c.ppid,
    c.uid,
    c.comm,
    { key: 'exit_code', header: 'CODE', width: 4, format: (v, ev) => (ev.data.type === 'exit' ? String(v) : '') },
    { key: 'exit_signal', header: 'SIG', width: 3, format: (v, ev) => (ev.data.type === 'exit' && v ? String(v) : '') },
    { key: 'duration_ns', header: 'MS', width: 8, format: ms },
    { key: 'exe', header: 'PATH', width: 20 },
    { key: 'args', header: 'ARGS', format: shellJoin },
  ],
};
