// Generated from capable.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct capable_event: as decoded. */
export type CapableEvent = EunomiaCommon & {
  cap_raw: number; // __s32
  ret: number; // __s32
  euid: number; // __u32
  target_ns: number; // __u32
  target_ns_level: number; // __u32
  capable_ns: number; // __u32
};
