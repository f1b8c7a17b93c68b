// Generated from profile.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map buffer. */
export type BufferEntry = { key: number; value: number };

/** An entry of map counts1. */
export type Counts1Entry = { key: ProfileKey; value: number | bigint };

/** struct profile_key: as decoded. */
export type ProfileKey = {
  pid: number; // __u32
  user_stack: number; // __s32
  kernel_stack: number; // __s32
  pad: number; // __u32
  cgroup_id: number | bigint; // __u64
  comm: string; // char[16]
};

/** An entry of map counts0. */
export type Counts0Entry = { key: ProfileKey; value: number | bigint };
