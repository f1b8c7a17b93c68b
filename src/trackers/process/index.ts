/** process: exec and exit of every process (sched tracepoints). */
import { commonColumns as c, LOW_RATE_RING, shellJoin } from '../common.js';
import { capabilityList } from '../names/capabilities.js';
import type { TrackerDescriptor } from '../types.js';
import { processMetrics } from './metrics.js';

const S_IFMT_NAMES: Record<number, string> = { 0o14: 'socket', 0o12: 'symlink', 0o10: 'file', 0o6: 'block', 0o4: 'dir', 0o2: 'char', 0o1: 'pipe' };
const FAMILIES: Record<number, string> = { 1: 'unix', 2: 'inet', 10: 'inet6', 16: 'netlink' };

/** `stdin_raw`-style value (S_IFMT bits << 16 | socket family) as a word: inet, unix, pipe, char, file … ('' when closed). */
export function fdKind(raw: number): string {
  const type = raw >>> 28; // S_IFMT (0170000) sits in bits 12-15 of the mode, shifted up 16
  if (type === 0) return '';
  if (type === 0o14) return FAMILIES[raw & 0xffff] ?? 'socket';
  return S_IFMT_NAMES[type] ?? 'unknown';
}

/** Fields only an exec has; an exit carries none of them. */
const EXEC_ONLY = ['prog', 'vpid', 'upper_layer', 'cap_effective', 'caps', 'stdin_raw', 'stdout_raw', 'stdin', 'stdout', 'tty'] as const;

const ms = (v: unknown): string => (typeof v === 'number' && v > 0 ? (v / 1e6).toFixed(1) : '');

export const processTracker: TrackerDescriptor = {
  name: 'process',
  summary: 'process exec and exit: pid, ppid, uid, path, args, exit code, lifetime, cgroup and namespaces',
  metrics: processMetrics,
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
  format(d) {
    if (d.type !== 'exec') {
      // undefined, not delete: a deleted property turns the object into a slow hash table,
      // and every later stage (enrichment, rules, metrics) reads it.
      for (const k of EXEC_ONLY) d[k] = undefined;
      return;
    }
    // The name the program was invoked by. Usually comm, but busybox re-executes its applets
    // through /proc/self/exe, which makes comm "exe" for every one of them.
    const argv0 = (d.args as string[])[0];
    d.prog = argv0 ? argv0.slice(argv0.lastIndexOf('/') + 1) : d.comm;
    d.upper_layer = d.upper_layer === 1;
    d.caps = capabilityList(d.cap_effective as bigint | number);
    d.stdin = fdKind(d.stdin_raw as number);
    d.stdout = fdKind(d.stdout_raw as number);
  },
};
