// Generated from secsnoop.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct sec_event: as decoded. */
export type SecEvent = EunomiaCommon & {
  call: SecCall | number; // enum sec_call
  arg_raw: (number | bigint)[]; // __s64[3]
  str_raw: string; // char[256]
  str2_raw: string; // char[256]
  addr_raw: number[]; // __u8[16]
};

/** enum sec_call: its names (a value without one is decoded as the number). */
export type SecCall =
  | 'bpf'
  | 'ptrace'
  | 'socket'
  | 'connect'
  | 'setns'
  | 'unshare'
  | 'memfd_create'
  | 'init_module'
  | 'finit_module'
  | 'delete_module'
  | 'dup2'
  | 'dup3'
  | 'chmod'
  | 'fchmod'
  | 'fchmodat'
  | 'fchmodat2'
  | 'userfaultfd'
  | 'kexec_load'
  | 'kexec_file_load'
  | 'symlink'
  | 'symlinkat'
  | 'link'
  | 'linkat'
  | 'unlink'
  | 'unlinkat'
  | 'rename'
  | 'renameat'
  | 'renameat2'
  | 'mkdir'
  | 'mkdirat'
  | 'utimensat'
  | 'futimesat'
  | 'utimes'
  | 'utime'
  | 'setxattr'
  | 'lsetxattr'
  | 'fsetxattr'
  | 'setxattrat'
  | 'reboot'
  | 'mknod'
  | 'mknodat'
  | 'setsockopt';
