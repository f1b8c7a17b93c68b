// Generated from funclatency.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map hists (per-CPU values summed). */
export type HistsEntry = { key: FunclatencyKey; value: FunclatencyHist };

/** struct funclatency_key: as decoded. */
export type FunclatencyKey = {
  cgroup_id: number | bigint; // __u64
  func: number | bigint; // __u64
};

/** struct funclatency_hist: as decoded. */
export type FunclatencyHist = {
  slots: number[]; // __u32[36]
  slot_ns: (number | bigint)[]; // __u64[36]
  too_deep: number | bigint; // __u64
  mismatched: number | bigint; // __u64
};
