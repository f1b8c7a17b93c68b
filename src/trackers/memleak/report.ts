/**
 * memleak's report: the outstanding allocations (the map `allocs`, never cleared: a block stays
 * until it is freed) older than --min-age, grouped by process and stack, and the failed
 * allocations of the interval (the map `failures`, read and cleared), their stacks named. Also
 * housekeeping: allocations of processes whose address space ended (exec, exit) are dropped,
 * and stacks no allocation refers to any more are deleted from the stack map.
 */
import { existsSync } from 'node:fs';
import type { BpfMap } from '../../core/bpf-object.js';
import { symbolizer } from '../../profiling/stacks.js';
import type { IntervalMaps, OptionValues } from '../../runtime/types.js';
import type { AllocsEntry } from './event.gen.js';
import { kernelMode } from './targets.js';

/** bpf/memleak/memleak.h: MEMLEAK_HEAP … MEMLEAK_PERCPU. */
export const ALLOCATORS = ['heap', 'mmap', 'slab', 'page', 'percpu'] as const;
export type Allocator = (typeof ALLOCATORS)[number];

export type MemleakRow = {
  /** `outstanding`: allocations not freed, older than --min-age; `failed`: allocations that failed in the interval. */
  kind: 'outstanding' | 'failed';
  allocator: Allocator | 'unknown';
  pid: number;
  comm: string;
  cgroup_id: number;
  /** Outstanding: the bytes held; failed: the bytes asked for, summed (a bigint beyond 2^53: malloc(-1)). */
  bytes: number | bigint;
  allocations: number;
  /** Outstanding: the age of the oldest, in ns. */
  oldest_ns?: number;
  /** Frame names, root first (user frames in user mode, kernel frames in kernel mode). */
  stack: string[];
  /** Why the stack is missing or has unnamed frames. */
  reason?: string;
  /** --sample-rate: one allocation in this many is recorded (bytes and allocations are of those). */
  sample_rate: number;
};

const EFAULT = -14;
const ENOMEM = -12;
const EEXIST = -17;

/** The kernel's leaf frames that are the tracing itself: this program (kallsyms names it bpf_prog_<tag>_<name>) and the tracepoint's runner. */
const TRACING_FRAME = /^(bpf_prog_[0-9a-f]+_\w+|bpf_trace_run\d+|__bpf_trace_\w+|__traceiter_\w+)$/;

function stackKey(id: number): Buffer {
  const k = Buffer.alloc(4);
  k.writeInt32LE(id);
  return k;
}

/**
 * A stack's addresses, leaf first, or undefined once the map lost it. Every frame is a return
 * address — at a uretprobe the leaf too (where the allocator returns to), and in the kernel the
 * tracepoint's callers — which for a call that never returns is past the caller's end: one byte
 * back is in the call.
 */
function addresses(stacks: BpfMap, id: number): bigint[] | undefined {
  const v = stacks.lookup(stackKey(id));
  if (!v) return undefined;
  const out: bigint[] = [];
  for (let off = 0; off + 8 <= v.length; off += 8) {
    const a = v.readBigUInt64LE(off);
    if (a === 0n) break;
    out.push(a - 1n);
  }
  return out;
}

/** The stack's frame names, root first, and why it is not whole. */
function named(stacks: BpfMap, id: number, pid: number, kernel: boolean): { stack: string[]; reason?: string } {
  if (id < 0) {
    const why = id === EFAULT ? 'no stack to walk' : id === EEXIST ? "the stack map's slot held another stack" : id === ENOMEM ? 'the stack map was full' : `error ${-id}`;
    return { stack: ['[lost stack]'], reason: `the kernel could not keep its stack: ${why}` };
  }
  const addrs = addresses(stacks, id);
  if (!addrs) return { stack: ['[lost stack]'], reason: 'its stack left the map before it was read' };
  const sym = symbolizer();
  let frames = kernel ? sym.kernel(addrs) : sym.user(pid, addrs);
  if (kernel) {
    const first = frames.findIndex((f) => !TRACING_FRAME.test(f.name));
    if (first > 0) frames = frames.slice(first);
  }
  const unnamed = frames.filter((f) => !f.resolved);
  const reason = unnamed.length ? `${unnamed.length} frame${unnamed.length > 1 ? 's' : ''} unnamed (${unnamed[0]!.reason ?? 'unknown'})` : undefined;
  return { stack: frames.map((f) => f.name).reverse(), ...(reason ? { reason } : {}) };
}

/**
 * The stack ids the map holds before the allocations are read (IntervalSpec.swap runs just
 * before the read, rows just after, in one synchronous report): only those may be deleted, so
 * a stack first taken while the report reads is never lost under the allocation that took it.
 */
let stacksBefore: number[] | undefined;

export function beforeRead(maps: Omit<IntervalMaps, 'current'>): string {
  const ids: number[] = [];
  for (const k of maps.map('stacks').keys()) ids.push(k.readInt32LE(0));
  stacksBefore = ids;
  return 'allocs';
}

/** struct memleak_failure_key + struct memleak_failure (bpf/memleak/memleak.h), decoded by offset. */
interface Failure {
  pid: number;
  stack_id: number;
  cgroup_id: number;
  kind: number;
  comm: string;
  count: number;
  bytes: number | bigint;
}

const FAILURE_KEY_SIZE = 40;
/** A u64 as the BTF decoders give it: a number, or a bigint beyond 2^53. */
const exact = (v: bigint): number | bigint => (v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
const FAILURE_SIZE = 16;

function readFailures(map: BpfMap): Failure[] {
  if (map.keySize !== FAILURE_KEY_SIZE || map.valueSize !== FAILURE_SIZE) {
    throw new Error(`map failures: key/value of ${map.keySize}/${map.valueSize} bytes, expected ${FAILURE_KEY_SIZE}/${FAILURE_SIZE} (bpf/memleak/memleak.h changed?)`);
  }
  return map.entries({ delete: true }).map(({ key, value }) => {
    const end = key.indexOf(0, 24);
    return {
      pid: key.readUInt32LE(0),
      stack_id: key.readInt32LE(4),
      cgroup_id: Number(key.readBigUInt64LE(8)),
      kind: key.readUInt32LE(16),
      comm: key.toString('utf8', 24, end < 0 || end > 40 ? 40 : end),
      count: Number(value.readBigUInt64LE(0)),
      bytes: exact(value.readBigUInt64LE(8)),
    };
  });
}

function allocsKey(addr: number | bigint, pid: number): Buffer {
  const k = Buffer.alloc(16);
  k.writeBigUInt64LE(BigInt(addr), 0);
  k.writeUInt32LE(pid, 8);
  return k;
}

/** User mode: the allocations of address spaces that ended (exec, exit, a pid gone) are gone too; drop them from the map. */
function dropEnded(entries: AllocsEntry[], maps: IntervalMaps): AllocsEntry[] {
  const ended = new Map<number, number>();
  for (const { key, value } of maps.map('ended').entries()) ended.set(key.readUInt32LE(0), Number(value.readBigUInt64LE(0)));
  const alive = new Map<number, boolean>();
  const allocs = maps.map('allocs');
  const kept: AllocsEntry[] = [];
  for (const e of entries) {
    const pid = e.key.pid;
    const end = ended.get(pid);
    let gone = end !== undefined && Number(e.value.ts_ns) <= end;
    if (!gone) {
      let a = alive.get(pid);
      if (a === undefined) alive.set(pid, (a = existsSync(`/proc/${pid}`)));
      gone = !a;
    }
    if (gone) allocs.delete(allocsKey(e.key.addr, pid));
    else kept.push(e);
  }
  return kept;
}

/** Deletes the stacks no allocation or failure refers to, among those the map held before the read. */
function dropStacks(stacks: BpfMap, referenced: Set<number>): void {
  const before = stacksBefore ?? [];
  stacksBefore = undefined;
  for (const id of before) if (!referenced.has(id)) stacks.delete(stackKey(id));
}

interface Group {
  pid: number;
  stackId: number;
  kind: number;
  comm: string;
  cgroupId: number;
  bytes: number;
  count: number;
  oldestTs: number;
}

/** One report's rows: the failures of the interval (most first), then the outstanding stacks (most bytes first), cut to -n. */
export function memleakRows(entries: AllocsEntry[], options: OptionValues, maps: IntervalMaps): MemleakRow[] {
  const kernel = kernelMode(options);
  const sampleRate = Math.max(1, Number(options.sampleRate ?? 1));
  const minAgeNs = Number(options.minAge ?? 0) * 1e9;
  // bpf_ktime_get_ns and process.hrtime are both CLOCK_MONOTONIC.
  const now = Number(process.hrtime.bigint());
  const live = kernel ? entries : dropEnded(entries, maps);
  const referenced = new Set<number>();
  const groups = new Map<string, Group>();
  for (const { value: v } of live) {
    referenced.add(v.stack_id);
    const ts = Number(v.ts_ns);
    if (now - ts < minAgeNs) continue;
    const id = `${v.pid}:${v.stack_id}:${v.kind}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { pid: v.pid, stackId: v.stack_id, kind: v.kind, comm: v.comm, cgroupId: Number(v.cgroup_id), bytes: 0, count: 0, oldestTs: ts }));
    g.bytes += Number(v.size);
    g.count++;
    if (ts < g.oldestTs) g.oldestTs = ts;
  }
  const failures = readFailures(maps.map('failures'));
  for (const f of failures) referenced.add(f.stack_id);
  const stacks = maps.map('stacks');

  const top = Number(options.top ?? 0);
  failures.sort((a, b) => b.count - a.count);
  const outstanding = [...groups.values()].sort((a, b) => b.bytes - a.bytes);
  const allocator = (k: number): MemleakRow['allocator'] => ALLOCATORS[k] ?? 'unknown';
  const rows: MemleakRow[] = [];
  // Only the rows reported are named: naming is the expensive part.
  for (const f of failures) {
    if (top > 0 && rows.length >= top) break;
    rows.push({ kind: 'failed', allocator: allocator(f.kind), pid: f.pid, comm: f.comm, cgroup_id: f.cgroup_id, bytes: f.bytes, allocations: f.count, ...named(stacks, f.stack_id, f.pid, kernel), sample_rate: sampleRate });
  }
  for (const g of outstanding) {
    if (top > 0 && rows.length >= top) break;
    rows.push({
      kind: 'outstanding',
      allocator: allocator(g.kind),
      pid: g.pid,
      comm: g.comm,
      cgroup_id: g.cgroupId,
      bytes: g.bytes,
      allocations: g.count,
      oldest_ns: now - g.oldestTs,
      ...named(stacks, g.stackId, g.pid, kernel),
      sample_rate: sampleRate,
    });
  }
  dropStacks(stacks, referenced);
  return rows;
}
