// Generated from tcpconnect.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct tcpconnect_event: as decoded. */
export type TcpconnectEvent = EunomiaCommon & {
  saddr_raw: number[]; // __u8[16]
  daddr_raw: number[]; // __u8[16]
  direction: TcpconnectDirection | number; // enum tcpconnect_direction
  error_raw: number; // __u32
  sport: number; // __u16
  dport: number; // __u16
  family_raw: number; // __u16
  established: boolean; // bool
};

/** enum tcpconnect_direction: its names (a value without one is decoded as the number). */
export type TcpconnectDirection = 'connect' | 'accept';
