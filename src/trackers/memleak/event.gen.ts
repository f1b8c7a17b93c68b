// Generated from memleak.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map allocs. */
export type AllocsEntry = { key: MemleakKey; value: MemleakAlloc };

/** struct memleak_key: as decoded. */
export type MemleakKey = {
  addr: number | bigint; // __u64
  pid: number; // __u32
  pad: number; // __u32
};

/** struct memleak_alloc: as decoded. */
export type MemleakAlloc = {
  size: number | bigint; // __u64
  ts_ns: number | bigint; // __u64
  cgroup_id: number | bigint; // __u64
  stack_id: number; // __s32
  pid: number; // __u32
  kind: number; // __u32
  tid: number; // __u32
  comm: string; // char[16]
};

/** An entry of map failures. */
export type FailuresEntry = { key: MemleakFailureKey; value: MemleakFailure };

/** struct memleak_failure_key: as decoded. */
export type MemleakFailureKey = {
  pid: number; // __u32
  stack_id: number; // __s32
  cgroup_id: number | bigint; // __u64
  kind: number; // __u32
  pad: number; // __u32
  comm: string; // char[16]
};

/** struct memleak_failure: as decoded. */
export type MemleakFailure = {
  count: number | bigint; // __u64
  bytes: number | bigint; // __u64
};

/** An entry of map ended. */
export type EndedEntry = { key: number; value: number | bigint };
