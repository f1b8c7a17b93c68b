/**
 * The profile tracker's counts as rows: each (process, user stack, kernel stack) with its samples,
 * the stacks read from the kernel's stack map and named (./symbols), and for the user stack what
 * went wrong when it is not whole — no user stack, lost, cut short, frames unnamed and why.
 */
import type { BpfMap } from '../core/bpf-object.js';
import { Symbolizer, type Frame } from './symbols/index.js';

/** What the user part of a sampled stack is worth. */
export type UserStack =
  | 'ok' // named from the program's entry point down
  | 'truncated' // it stops before an entry point: no frame pointers, or deeper than the kernel keeps
  | 'unresolved' // whole, but some frames have no name (see `reason`)
  | 'none' // no user stack: a kernel thread, or the sample hit while in the kernel with no user context
  | 'lost' // the kernel could not keep it (its stack map was full or the slot held another stack)
  | 'not-taken'; // --kernel-only

export type StackRow = {
  pid: number;
  comm: string;
  cgroup_id: number;
  count: number;
  /** Frames root first: the user frames, then the kernel frames (the last `kernel_frames`). */
  stack: string[];
  kernel_frames: number;
  user: UserStack;
  /** User frames without a name. */
  unresolved: number;
  /** Why frames are unnamed or the stack is not whole (the first reason met). */
  reason?: string;
  /** What would name this process's frames (e.g. Node's --perf-basic-prof-only-functions). */
  hint?: string;
};

/** The count maps' key, as decoded (bpf/profile/profile.h). */
export interface StackKey {
  pid: number;
  user_stack: number;
  kernel_stack: number;
  cgroup_id: number | bigint;
  comm: string;
}

const PROFILE_NOT_TAKEN = -1000;
const EFAULT = -14;
const MAX_DEPTH = 127;
/** Why bpf_get_stackid kept no stack. */
function lostReason(err: number): string {
  if (err === -17) return 'its slot in the stack map held another stack (a hash collision)';
  if (err === -12) return 'the stack map was full';
  return `the kernel could not keep it (error ${-err})`;
}

/** Where a whole user stack starts: the process's entry or a thread's. */
const ENTRY = /^(_start|__libc_start_main|__libc_start_call_main|start_thread|clone3?|__clone3?|thread_start)$/;

/** One per process: the cache of ELF symbols is by build id, shared by every profile. */
let shared: Symbolizer | undefined;
export function symbolizer(): Symbolizer {
  return (shared ??= new Symbolizer());
}

/**
 * The addresses of a stack id (leaf first), or undefined if the map no longer holds it. Every
 * frame but the leaf is a return address: the instruction after a call, which for a call that
 * never returns is past the caller's end (in the next function); one byte back is in the call.
 */
function addresses(stacks: BpfMap, id: number): bigint[] | undefined {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(id);
  const v = stacks.lookup(key);
  if (!v) return undefined;
  const out: bigint[] = [];
  for (let off = 0; off + 8 <= v.length; off += 8) {
    const a = v.readBigUInt64LE(off);
    if (a === 0n) break;
    out.push(out.length ? a - 1n : a);
  }
  return out;
}

function userPart(sym: Symbolizer, key: StackKey, stacks: BpfMap): { frames: string[]; user: UserStack; unresolved: number; reason?: string } {
  const id = key.user_stack;
  if (id === PROFILE_NOT_TAKEN) return { frames: [], user: 'not-taken', unresolved: 0 };
  if (id === EFAULT) return { frames: [], user: 'none', unresolved: 0 };
  if (id < 0) return { frames: ['[lost user stack]'], user: 'lost', unresolved: 0, reason: lostReason(id) };
  const addrs = addresses(stacks, id);
  if (!addrs) return { frames: ['[lost user stack]'], user: 'lost', unresolved: 0, reason: 'its stack left the map before it was read' };
  const frames: Frame[] = sym.user(key.pid, addrs);
  let unresolved = 0;
  let reason: string | undefined;
  for (const f of frames) {
    if (f.resolved) continue;
    unresolved++;
    reason ??= f.reason;
  }
  const names = frames.map((f) => f.name).reverse();
  const outer = frames[frames.length - 1];
  let user: UserStack = unresolved ? 'unresolved' : 'ok';
  if (addrs.length >= MAX_DEPTH) {
    user = 'truncated';
    reason = `deeper than the ${MAX_DEPTH} frames the kernel keeps`;
  } else if (!outer?.resolved || !ENTRY.test(outer.name)) {
    user = 'truncated';
    reason ??= 'it stops before the entry point (code built without frame pointers)';
  }
  return { frames: names, user, unresolved, ...(reason ? { reason } : {}) };
}

/** Rows of one report: `entries` from a count map, their stacks from `stackMap` (cleared after). */
export function stackRows(entries: readonly { key: StackKey; value: number | bigint }[], maps: { map(name: string): BpfMap }, stackMap: string): StackRow[] {
  const stacks = maps.map(stackMap);
  const sym = symbolizer();
  const rows: StackRow[] = [];
  // A hint reads the process's files: once per process and report.
  const hints = new Map<number, string | undefined>();
  for (const { key, value } of entries) {
    const user = userPart(sym, key, stacks);
    let kernel: string[] = [];
    if (key.kernel_stack >= 0) {
      const addrs = addresses(stacks, key.kernel_stack);
      kernel = addrs ? sym.kernel(addrs).map((f) => f.name).reverse() : ['[lost kernel stack]'];
    }
    if (!hints.has(key.pid)) hints.set(key.pid, sym.hint(key.pid));
    const hint = hints.get(key.pid);
    rows.push({
      pid: key.pid,
      comm: key.comm,
      cgroup_id: Number(key.cgroup_id),
      count: Number(value),
      stack: [...user.frames, ...kernel],
      kernel_frames: kernel.length,
      user: user.user,
      unresolved: user.unresolved,
      ...(user.reason ? { reason: user.reason } : {}),
      ...(hint ? { hint } : {}),
    });
  }
  // The samples now go to the other set: this one's stacks are no longer referred to.
  for (const k of [...stacks.keys()]) stacks.delete(k);
  return rows;
}
