/**
 * eBPF timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns), like process.hrtime: one offset,
 * taken once, turns them into wall-clock time. Injected so tests can pin it.
 */
export interface Clock {
  /** Wall-clock ms since the epoch for a monotonic timestamp in ns. */
  wallMs(monoNs: number | bigint): number;
  nowMs(): number;
}

// One offset per process: times converted by different parts (an event's, a kernel map's)
// must compare exactly.
const offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
const clock: Clock = {
  wallMs: (ns) => offsetMs + Number(ns) / 1e6,
  nowMs: () => Date.now(),
};

export function systemClock(): Clock {
  return clock;
}
