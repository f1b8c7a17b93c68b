/** process: exec and exit of every process (sched tracepoints). */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import { capabilityList } from '../names/capabilities.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { withJsonText } from '../../exporters/json.js';
import { processMetrics, processOriginalMetrics } from './metrics.js';
import { argsText } from './args.js';
import type { ProcessEvent } from './event.gen.js';

const S_IFMT_NAMES: Record<number, string> = { 0o14: 'socket', 0o12: 'symlink', 0o10: 'file', 0o6: 'block', 0o4: 'dir', 0o2: 'char', 0o1: 'pipe' };
const FAMILIES: Record<number, string> = { 1: 'unix', 2: 'inet', 10: 'inet6', 16: 'netlink' };

/** PROCESS_FD_NAMED (process.h): the FIFO has a name on a filesystem, it is not a pipe(2). */
const FD_NAMED = 1 << 16;

/**
 * `stdin_raw`-style value (S_IFMT bits << 16 | socket family | FD_NAMED) as a word: inet, unix,
 * pipe, fifo, char, file … ('' when closed).
 */
export function fdKind(raw: number): string {
  const type = raw >>> 28; // S_IFMT (0170000) sits in bits 12-15 of the mode, shifted up 16
  if (type === 0) return '';
  if (type === 0o14) return FAMILIES[raw & 0xffff] ?? 'socket';
  if (type === 0o1 && raw & FD_NAMED) return 'fifo';
  return S_IFMT_NAMES[type] ?? 'unknown';
}

/** Superblock magics (linux/magic.h) of the filesystems an executable is likely to be on. */
const FS_MAGICS: Record<number, string> = {
  0x01021994: 'tmpfs',
  0x858458f6: 'ramfs',
  0x958458f6: 'hugetlbfs',
  0x794c7630: 'overlay',
  0xef53: 'ext4', // ext2 and ext3 share it
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0xf2f52010: 'f2fs',
  0x2fc12fc1: 'zfs',
  0x73717368: 'squashfs',
  0x28cd3d45: 'cramfs',
  0x9660: 'iso9660',
  0x6969: 'nfs',
  0xff534d42: 'cifs',
  0xfe534d42: 'smb2',
  0x65735546: 'fuse',
  0x01021997: '9p',
  0x4d44: 'vfat',
  0x9fa0: 'proc',
};

/**
 * `exe_fs_magic` as a word: tmpfs, overlay, ext4 … (hex when unknown, '' for none). A memfd is a
 * file of the kernel's internal tmpfs (or hugetlbfs): it reads `memfd`, by its path `/memfd:NAME`.
 */
export function exeFs(magic: number, exe: string): string {
  if (!magic) return '';
  const name = FS_MAGICS[magic];
  if ((name === 'tmpfs' || name === 'hugetlbfs') && exe.startsWith('/memfd:')) return 'memfd';
  return name ?? `0x${magic.toString(16)}`;
}

/** Fields only an exec has; an exit carries none of them (format makes them undefined). */
export const EXEC_ONLY = [
  'prog', 'cmdline', 'vpid', 'vppid', 'upper_layer', 'exe_fs_magic', 'exe_fs', 'cap_effective', 'caps',
  'stdin_raw', 'stdout_raw', 'stdin', 'stdout', 'tty', 'pcomm', 'gpcomm', 'ld_preload', 'ld_library_path',
  'glibc_tunables', 'glibc_tunables_len', 'path_env',
] as const;

/** What format adds to an exec. */
type ExecNames = { prog: string; cmdline: string; exe_fs: string; caps: readonly string[]; stdin: string; stdout: string };

/**
 * A process_event: an exec, with the names format adds (and `upper_layer` made a boolean), or
 * an exit, whose exec-only fields format clears.
 */
export type ProcessData =
  | (Omit<ProcessEvent, 'type' | 'upper_layer'> & ExecNames & { type: 'exec'; upper_layer: number | boolean })
  | (Omit<ProcessEvent, 'type' | (typeof EXEC_ONLY)[number]> & { type: Exclude<ProcessEvent['type'], 'exec'> } & { [K in (typeof EXEC_ONLY)[number]]?: undefined });

/**
 * An exit's EXEC_ONLY fields made undefined; not deleted: a deleted property turns the object
 * into a slow hash table, and every later stage (enrichment, rules, metrics) reads it. One
 * store per name rather than a loop over the names, whose one keyed store site sees 21 names
 * (megamorphic: a lookup per store).
 */
function clearExecOnly(d: Partial<Record<(typeof EXEC_ONLY)[number], undefined>>): void {
  d.prog = undefined;
  d.cmdline = undefined;
  d.vpid = undefined;
  d.vppid = undefined;
  d.upper_layer = undefined;
  d.exe_fs_magic = undefined;
  d.exe_fs = undefined;
  d.cap_effective = undefined;
  d.caps = undefined;
  d.stdin_raw = undefined;
  d.stdout_raw = undefined;
  d.stdin = undefined;
  d.stdout = undefined;
  d.tty = undefined;
  d.pcomm = undefined;
  d.gpcomm = undefined;
  d.ld_preload = undefined;
  d.ld_library_path = undefined;
  d.glibc_tunables = undefined;
  d.glibc_tunables_len = undefined;
  d.path_env = undefined;
}

const ms = (v: unknown): string => (typeof v === 'number' && v > 0 ? (v / 1e6).toFixed(1) : '');

// Execs repeat a few capability sets (root's, none): each one's list made once, carrying its
// JSON text (root's is 41 names to quote); the last one's without a Map lookup.
const capLists = new Map<number | bigint, readonly string[]>();
let lastMask: unknown;
let lastCaps: readonly string[] = [];
function caps(mask: number | bigint): readonly string[] {
  if (mask === lastMask) return lastCaps;
  let list = capLists.get(mask);
  if (list === undefined) {
    list = withJsonText([...capabilityList(mask)]);
    if (capLists.size >= 64) capLists.clear();
    capLists.set(mask, list);
  }
  lastMask = mask;
  lastCaps = list;
  return list;
}

export const processTracker: TrackerDescriptor = {
  name: 'process',
  summary: 'process exec and exit: pid, ppid, uid, path, args, exit code, lifetime, cgroup and namespaces',
  metrics: processMetrics,
  originalMetrics: processOriginalMetrics,
  object: 'process.bpf.o',
  event: { struct: 'process_event', map: 'events' },
  // An exec record is 2.7 KiB: 512 KiB holds ~190 of them per 10 ms poll (19,000 execs/s).
  ringBytes: 2 * LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
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
    { key: 'args', header: 'ARGS', format: argsText },
  ],
  format(d) {
    if (d.type !== 'exec') return clearExecOnly(d);
    // The name the program was invoked by. Usually comm, but busybox re-executes its applets
    // through /proc/self/exe, which makes comm "exe" for every one of them.
    const argv0 = d.args[0];
    d.prog = argv0 ? argv0.slice(argv0.lastIndexOf('/') + 1) : d.comm;
    // The command line as one string, for rules that look inside arguments (a URL's host).
    d.cmdline = d.args.join(' ');
    d.upper_layer = d.upper_layer === 1;
    d.exe_fs = exeFs(d.exe_fs_magic, d.exe);
    d.caps = caps(d.cap_effective);
    d.stdin = fdKind(d.stdin_raw);
    d.stdout = fdKind(d.stdout_raw);
  },
} satisfies TrackerDescriptor<ProcessData>;
