// Generated from mountsnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct mount_event: as decoded. */
export type MountEvent = EunomiaCommon & {
  call: MountCall | number; // enum mount_call
  fd: number; // __s32
  error_raw: number; // __u32
  in_fd: number; // __s32
  aux_fd: number; // __s32
  attr_raw: number; // __u32
  flags_raw: number | bigint; // __u64
  fs_type: string; // char[32]
  source: string; // char[256]
  target: string; // char[256]
  data: string; // char[256]
};

/** enum mount_call: its names (a value without one is decoded as the number). */
export type MountCall =
  | 'mount'
  | 'umount'
  | 'fsopen'
  | 'fsconfig'
  | 'fsmount'
  | 'move_mount'
  | 'open_tree'
  | 'fspick';
