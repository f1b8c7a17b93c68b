// Generated from syscount.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map start. */
export type StartEntry = { key: number | bigint; value: SyscountStart };

/** struct syscount_start: as decoded. */
export type SyscountStart = {
  ts_ns: number | bigint; // __u64
  nr: number | bigint; // __u64
};

/** An entry of map syscalls (per-CPU values summed). */
export type SyscallsEntry = { key: number; value: SyscountValue };

/** struct syscount_value: as decoded. */
export type SyscountValue = {
  count: number | bigint; // __u64
  total_ns: number | bigint; // __u64
};

/** An entry of map processes (per-CPU values summed). */
export type ProcessesEntry = { key: SyscountProcKey; value: SyscountProcValue };

/** struct syscount_proc_key: as decoded. */
export type SyscountProcKey = {
  pid: number; // __u32
};

/** struct syscount_proc_value: as decoded. */
export type SyscountProcValue = {
  count: number | bigint; // __u64
  total_ns: number | bigint; // __u64
  comm: string; // char[16]
};
