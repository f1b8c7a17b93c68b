// Generated from oomkill.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

import type { EunomiaCommon } from '../common-event.gen.js';

/** struct oomkill_event: as decoded. */
export type OomkillEvent = EunomiaCommon & {
  victim_pid: number; // __u32
  victim_tid: number; // __u32
  victim_uid: number; // __u32
  oom_score_adj: number; // __s16
  memcg_truncated: number; // __u8
  total_vm_kb: number | bigint; // __u64
  anon_rss_kb: number | bigint; // __u64
  file_rss_kb: number | bigint; // __u64
  shmem_rss_kb: number | bigint; // __u64
  pgtables_kb: number | bigint; // __u64
  memcg_id: number | bigint; // __u64
  victim_cgroup_id: number | bigint; // __u64
  victim_comm: string; // char[16]
  memcg_path: string; // char[256]
};
