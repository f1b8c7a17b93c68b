// Generated from bindsnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** struct bindsnoop_event: as decoded. */
export type BindsnoopEvent = {
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
  addr_raw: number[]; // __u8[16]
  result_raw: number; // __s32
  bound_dev_if: number; // __s32
  port: number; // __u16
  family_raw: number; // __u16
  protocol_raw: number; // __u16
  opts_raw: number; // __u8
  device: string; // char[16]
};
