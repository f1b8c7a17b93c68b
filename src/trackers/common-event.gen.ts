// Generated from process.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** struct eunomia_common: as decoded. */
export type EunomiaCommon = {
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
};
