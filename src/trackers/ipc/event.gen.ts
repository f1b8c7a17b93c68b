// Generated from ipc.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct ipc_event: as decoded. */
export type IpcEvent = EunomiaCommon & {
  call: IpcCall | number; // enum ipc_call
  ipc_ns: number; // __u32
  key: number; // __u32
  id: number; // __s32
  flags_raw: number; // __u32
  mode_raw: number; // __u32
  cmd_raw: number; // __s32
  nsems: number; // __u32
  prio: number; // __u32
  msgtyp: number | bigint; // __s64
  size: number | bigint; // __u64
  addr: number | bigint; // __u64
  ret: number | bigint; // __s64
  name: string; // char[256]
};

/** enum ipc_call: its names (a value without one is decoded as the number). */
export type IpcCall =
  | 'msgget'
  | 'msgsnd'
  | 'msgrcv'
  | 'msgctl'
  | 'shmget'
  | 'shmat'
  | 'shmdt'
  | 'shmctl'
  | 'semget'
  | 'semop'
  | 'semtimedop'
  | 'semctl'
  | 'mq_open'
  | 'mq_unlink'
  | 'mq_timedsend'
  | 'mq_timedreceive';
