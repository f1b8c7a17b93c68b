// Generated from syscall.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** struct syscall_event: as decoded. */
export type SyscallEvent = {
  pid: number; // __u32
  tid: number; // __u32
  ppid: number; // __u32
  uid: number; // __u32
  gid: number; // __u32
  pid_ns: number; // __u32
  mnt_ns: number; // __u32
  user_ns: number; // __u32
  cgroup_id: number | bigint; // __u64
  comm: string; // char[16]
  foreign_exe: number; // __u8
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
