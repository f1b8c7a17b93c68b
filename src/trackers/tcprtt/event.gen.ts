// Generated from tcprtt.bpf.o BTF by scripts/gen-event-types.js; do not edit.
// What its decoders return (src/core/btf/decoder.ts): integers of 8 bytes and pointers are a
// number, or a bigint beyond 2^53; char arrays strings; enums the value's name; bool true/false.

/** An entry of map hists (per-CPU values summed). */
export type HistsEntry = { key: TcprttKey; value: TcprttHist };

/** struct tcprtt_key: as decoded. */
export type TcprttKey = {
  raddr_raw: number[]; // __u8[16]
  family: number; // __u16
  lport: number; // __u16
};

/** struct tcprtt_hist: as decoded. */
export type TcprttHist = {
  slots: number[]; // __u32[27]
  count: number | bigint; // __u64
  total_us: number | bigint; // __u64
};
