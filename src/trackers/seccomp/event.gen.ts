// Generated from seccomp.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map workload. */
export type WorkloadEntry = { key: number; value: number };

/** An entry of map workload_seen. */
export type WorkloadSeenEntry = { key: number; value: number };

/** An entry of map recordings. */
export type RecordingsEntry = { key: number; value: SeccompSlot };

/** struct seccomp_slot: as decoded. */
export type SeccompSlot = {
  cgroup_id: number | bigint; // __u64
  counts: (number | bigint)[]; // __u64[512]
  clone_ns: number | bigint; // __u64
  unshare_ns: number | bigint; // __u64
  socket_families: number | bigint; // __u64
  prctl_options: (number | bigint)[]; // __u64[2]
  personalities: number | bigint; // __u64
  caps_used: number | bigint; // __u64
  caps_denied: number | bigint; // __u64
  compat_calls: number | bigint; // __u64
  other: number | bigint; // __u64
  exec_gate: number | bigint; // __u64
};
