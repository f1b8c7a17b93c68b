/** For tracker tests: run a tracker around a workload on the real kernel and collect its events. */
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerStats } from '../../src/runtime/tracker.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import type { OptionValues, TrackerDescriptor } from '../../src/runtime/types.js';
import { KernelWatch } from '../helpers.js';

export interface Traced {
  events: TrackerEvent[];
  stats: TrackerStats;
}

/**
 * Starts `tracker` (Eunomia's own children included by default, since tests spawn the
 * workload), runs `workload`, waits until `until(events)` holds (or `waitMs` passes),
 * stops, and returns what was seen. Kernel objects are noted in `watch` if given.
 */
export async function traceWhile(
  tracker: TrackerDescriptor,
  options: OptionValues,
  workload: () => unknown,
  until: (events: TrackerEvent[]) => boolean,
  opts: { waitMs?: number; watch?: KernelWatch } = {},
): Promise<Traced> {
  const native = loadNative();
  preflight(native);
  const events: TrackerEvent[] = [];
  const m = new TrackerManager({ native, clock: systemClock(), emit: (ev) => events.push(ev) });
  const inst = m.start(tracker, { includeSelf: true, ...options });
  opts.watch?.note();
  let failed: unknown;
  try {
    await workload();
    const end = Date.now() + (opts.waitMs ?? 5000);
    while (!until(events) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  } catch (e) {
    failed = e;
  }
  const stats = await m.stop(inst.id); // always, so a failing workload leaves nothing loaded
  if (failed) throw failed;
  return { events, stats };
}
