/**
 * eBPF timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns), like process.hrtime: one offset,
 * taken once, turns them into wall-clock time. Injected so tests can pin it.
 */
export interface Clock {
  /** Wall-clock ms since the epoch for a monotonic timestamp in ns. */
  wallMs(monoNs: number | bigint): number;
  nowMs(): number;
}

export function systemClock(): Clock {
  const offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  return {
    wallMs: (ns) => offsetMs + Number(ns) / 1e6,
    nowMs: () => Date.now(),
  };
}
