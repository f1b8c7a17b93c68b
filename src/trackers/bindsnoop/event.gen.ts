// Generated from bindsnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct bindsnoop_event: as decoded. */
export type BindsnoopEvent = EunomiaCommon & {
  addr_raw: number[]; // __u8[16]
  result_raw: number; // __s32
  bound_dev_if: number; // __s32
  port: number; // __u16
  family_raw: number; // __u16
  protocol_raw: number; // __u16
  opts_raw: number; // __u8
  device: string; // char[16]
};
