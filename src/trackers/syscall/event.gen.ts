// Generated from syscall.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct syscall_event: as decoded. */
export type SyscallEvent = EunomiaCommon & {
  syscall_raw: number; // __u32
};

/** An entry of map pid_counts (per-CPU values summed). */
export type PidCountsEntry = { key: number; value: SyscallCount };

/** struct syscall_count: as decoded. */
export type SyscallCount = {
  count: number | bigint; // __u64
  comm: string; // char[16]
};

/** An entry of map counts (per-CPU values summed). */
export type CountsEntry = { key: SyscallKey; value: SyscallCount };

/** struct syscall_key: as decoded. */
export type SyscallKey = {
  pid: number; // __u32
  syscall_raw: number; // __u32
};

/** An entry of map seen. */
export type SeenEntry = { key: SyscallKey; value: number | bigint };
