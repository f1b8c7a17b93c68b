/**
 * memleak: outstanding allocations by stack, like bcc's memleak (bpf/memleak). In user mode (-p,
 * --container) uprobes on the C library's allocator; in kernel mode the kmem and percpu
 * tracepoints. Every interval, the allocations older than --min-age grouped by process and
 * stack, the stacks named, the most bytes first; failed allocations apart.
 */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { leafFirstStackColumn } from '../common.js';
import type { IntervalSpec, OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import type { AllocsEntry } from './event.gen.js';
import { memleakMetrics } from './metrics.js';
import { beforeRead, memleakRows, type MemleakRow } from './report.js';
import { kernelMode, uprobeTargets, USER_PROGRAMS } from './targets.js';

export type { MemleakRow } from './report.js';

const KERNEL_PROGRAMS = ['ml_kmalloc', 'ml_kmem_cache_alloc', 'ml_kfree', 'ml_kmem_cache_free', 'ml_percpu_alloc', 'ml_percpu_free'];
const PAGE_PROGRAMS = ['ml_page_alloc', 'ml_page_free', 'ml_page_free_batched'];

const interval: IntervalSpec<MemleakRow, AllocsEntry> = {
  map: 'allocs',
  // A block stays in the map until it is freed: reports read it, never clear it.
  keep: true,
  swap: beforeRead,
  seconds: 5,
  top: 10,
  rows: memleakRows,
};

/** 1.5 GiB, 12.3 KiB, 512 B */
function bytesText(v: number | bigint): string {
  let n = Number(v);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`;
}

const seconds = (ns: number): string => `${(ns / 1e9).toFixed(1)} s`;

/** bcc's layout: "N bytes in M allocations from stack", then the frames, leaf first. */
function plain(d: MemleakRow): string {
  const c = (d as { container?: { id?: string; name?: string } }).container;
  const who = `${d.comm} (pid ${d.pid}${c && c.id !== 'host' ? `, container ${c.name || c.id}` : ''})`;
  const allocations = `${d.allocations} ${d.allocator} allocation${d.allocations === 1 ? '' : 's'}`;
  const head =
    d.kind === 'failed'
      ? `\t${d.allocations} failed ${d.allocator} allocation${d.allocations === 1 ? '' : 's'} (${String(d.bytes)} bytes asked) from stack, ${who}`
      : `\t${String(d.bytes)} bytes in ${allocations} from stack, ${who}, oldest ${seconds(d.oldest_ns ?? 0)}`;
  const frames = [...d.stack].reverse().map((f) => `\t\t${f}`);
  if (d.reason) frames.push(`\t\t(${d.reason})`);
  return [head, ...frames].join('\n');
}

function validate(o: OptionValues): void {
  const err = (m: string) => new EunomiaError(ErrorCodes.OPTION, `tracker memleak: ${m}`);
  if (o.sampleRate !== undefined && Number(o.sampleRate) < 1) throw err('--sample-rate must be at least 1 (1: every allocation)');
  if (o.minSize !== undefined && o.maxSize !== undefined && Number(o.minSize) > Number(o.maxSize)) throw err(`--min-size ${o.minSize} is above --max-size ${o.maxSize}`);
  const obj = typeof o.obj === 'string' && o.obj !== '';
  if (obj && o.kernel === true) throw err('--obj names a user-space allocator, --kernel traces the kernel — give one');
  if (o.pages === true && !kernelMode(o)) throw err('--pages is for kernel mode: add --kernel (with -p or --container, the kernel allocations made in that process or container)');
  if (obj && kernelMode(o)) {
    throw err('--obj needs -p PID or --container ID: user-space allocations are traced in one process or container, never host-wide (uprobes on every process\'s allocator would slow the whole host) — for the kernel\'s allocations leave --obj out');
  }
}

export const memleakTracker: TrackerDescriptor = {
  name: 'memleak',
  summary: "outstanding allocations by stack (a process's or container's malloc/mmap, or the kernel's), top N by bytes, and failed allocations",
  metrics: memleakMetrics,
  object: 'memleak.bpf.o',
  interval,
  programs: (o) => (!kernelMode(o) ? USER_PROGRAMS : o.pages === true ? [...KERNEL_PROGRAMS, ...PAGE_PROGRAMS] : KERNEL_PROGRAMS),
  uprobes: uprobeTargets,
  startedByRules: false,
  examples: [
    'sudo eunomia run memleak -p 1234                 # its malloc/mmap blocks older than 5 s, every 5 s',
    'sudo eunomia run memleak -p 1234 --min-size 4096 --min-age 60 -i 30',
    'sudo eunomia run memleak --container 3f2a9c1b7d4e  # by id: the C library its processes map',
    'sudo eunomia run memleak -T 30 --sample-rate 10    # the kernel\'s slab and percpu allocations',
  ],
  options: [
    { name: 'minAge', flag: 'min-age', type: 'uint', arg: 'SECONDS', default: 5, max: 86400 * 365, description: 'report only allocations at least this old (default 5)' },
    {
      name: 'sampleRate',
      flag: 'sample-rate',
      type: 'uint',
      arg: 'N',
      default: 1,
      max: 2 ** 31,
      global: 'sample_rate',
      description: "record one allocation in N, at random (default 1, every one, as bcc's memleak); frees and failures are always seen",
    },
    { name: 'minSize', flag: 'min-size', type: 'uint', arg: 'BYTES', global: 'min_size', max: Number.MAX_SAFE_INTEGER, description: 'record only allocations of at least this many bytes' },
    { name: 'maxSize', flag: 'max-size', type: 'uint', arg: 'BYTES', global: 'max_size', max: Number.MAX_SAFE_INTEGER, description: 'record only allocations of at most this many bytes' },
    { name: 'kernel', flag: 'kernel', type: 'bool', default: false, description: "the kernel's allocations (kmalloc, kmem_cache, percpu), also with -p or --container (the default without them)" },
    {
      name: 'pages',
      flag: 'pages',
      type: 'bool',
      default: false,
      description: "kernel mode: the page allocator's pages too (every process's page faults, the page cache, the slab caches' own pages: they fill the map fast on a busy host)",
    },
    { name: 'obj', flag: 'obj', short: 'O', type: 'string', arg: 'BINARY', description: 'user mode: the allocator to probe instead of the C library (a library name the process maps, a path in its root, or /proc/PID/exe for a static binary)' },
  ],
  validate,
  plain,
  columns: [
    { key: 'container.name', header: 'CONTAINER', width: 12 },
    { key: 'pid', header: 'PID', width: 7 },
    { key: 'comm', header: 'COMM', width: 16 },
    { key: 'kind', header: 'KIND', width: 11 },
    { key: 'allocator', header: 'ALLOC', width: 6 },
    { key: 'bytes', header: 'BYTES', width: 10, format: (v) => (typeof v === 'number' || typeof v === 'bigint' ? bytesText(v) : '') },
    { key: 'allocations', header: 'COUNT', width: 7 },
    { key: 'oldest_ns', header: 'OLDEST', width: 8, format: (v) => (typeof v === 'number' ? seconds(v) : '') },
    leafFirstStackColumn,
  ],
} satisfies TrackerDescriptor<MemleakRow, AllocsEntry>;
