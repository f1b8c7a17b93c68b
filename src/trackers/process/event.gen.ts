// Generated from process.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct process_event: as decoded. */
export type ProcessEvent = EunomiaCommon & {
  type: ProcessEventType | number; // enum process_event_type
  exit_code: number; // __u32
  exit_signal: number; // __u32
  args_size: number; // __u32
  args_truncated: number; // __u8
  duration_ns: number | bigint; // __u64
  vpid: number; // __u32
  vppid: number; // __u32
  upper_layer: number; // __u8
  cap_effective: number | bigint; // __u64
  stdin_raw: number; // __u32
  stdout_raw: number; // __u32
  exe_fs_magic: number; // __u32
  tty: string; // char[16]
  pcomm: string; // char[16]
  gpcomm: string; // char[16]
  filename: string; // char[256]
  exe: string; // char[256]
  glibc_tunables_len: number; // __u32
  ld_preload: string; // char[256]
  ld_library_path: string; // char[256]
  glibc_tunables: string; // char[256]
  path_env: string; // char[256]
  args: string[]; // char[1024]
};

/** enum process_event_type: its names (a value without one is decoded as the number). */
export type ProcessEventType = 'exec' | 'exit';
