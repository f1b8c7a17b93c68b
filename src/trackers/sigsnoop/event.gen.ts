// Generated from sigsnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct signal_event: as decoded. */
export type SignalEvent = EunomiaCommon & {
  source: SignalSource | number; // enum signal_source
  delivery: SignalDelivery | number; // enum signal_delivery
  signal_raw: number; // __s32
  si_code: number; // __s32
  target_pid: number; // __s32
  target_tid: number; // __s32
  targets: number; // __u32
  error_raw: number; // __u32
  target_comm: string; // char[16]
};

/** enum signal_source: its names (a value without one is decoded as the number). */
export type SignalSource =
  | 'kill'
  | 'tkill'
  | 'tgkill'
  | 'rt_sigqueueinfo'
  | 'rt_tgsigqueueinfo'
  | 'pidfd_send_signal'
  | 'kernel';

/** enum signal_delivery: its names (a value without one is decoded as the number). */
export type SignalDelivery =
  | 'none'
  | 'delivered'
  | 'ignored'
  | 'pending'
  | 'overflow'
  | 'lost_info';
