// Generated from seccomplog.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct seccomplog_event: as decoded. */
export type SeccomplogEvent = EunomiaCommon & {
  kind: number; // __u32
  nr: number; // __u32
  arg: number | bigint; // __u64
  cap: number; // __s32
  cap_ret: number; // __s32
};
