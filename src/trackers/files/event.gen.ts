// Generated from files.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map files (per-CPU values summed). */
export type FilesEntry = { key: FilesKey; value: FilesStats };

/** struct files_key: as decoded. */
export type FilesKey = {
  pid: number; // __u32
  dev_raw: number; // __u32
  inode: number | bigint; // __u64
};

/** struct files_stats: as decoded. */
export type FilesStats = {
  reads: number | bigint; // __u64
  writes: number | bigint; // __u64
  rbytes: number | bigint; // __u64
  wbytes: number | bigint; // __u64
  cgroup_id: number | bigint; // __u64
  mode_raw: number; // __u32
  comm: string; // char[16]
  name: string; // char[64]
  path: string; // char[256]
};

/** An entry of map scratch (per-CPU values summed). */
export type ScratchEntry = { key: number; value: Scratch };

/** struct scratch: as decoded. */
export type Scratch = {
  init: FilesStats; // struct files_stats
  buf: string; // char[512]
};
