// Generated from opensnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct open_event: as decoded. */
export type OpenEvent = EunomiaCommon & {
  syscall: OpenSyscall | number; // enum open_syscall
  dfd: number; // __s32
  fd: number; // __s32
  error_raw: number; // __u32
  flags_raw: number; // __u32
  mode_raw: number; // __u32
  resolve_raw: number; // __u32
  path: string; // char[256]
};

/** enum open_syscall: its names (a value without one is decoded as the number). */
export type OpenSyscall = 'open' | 'openat' | 'openat2';
