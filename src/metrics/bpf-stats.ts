/** The kernel's BPF run-time statistics, on while the agent (or `eunomia run`) holds their fd. */
import { closeSync } from 'node:fs';
import type { NativeBinding } from '../core/native.js';

/** Turns them on; undefined (and a log line saying why) when the kernel refuses. Call the result to turn them off. */
export function enableBpfStats(native: NativeBinding, log: (line: string) => void): (() => void) | undefined {
  const fd = native.enableBpfStats();
  if (fd < 0) {
    log(`BPF run-time stats unavailable (errno ${-fd}): no eunomia_bpf_program_* metrics`);
    return undefined;
  }
  let open = true;
  return () => {
    if (open) closeSync(fd);
    open = false;
  };
}
