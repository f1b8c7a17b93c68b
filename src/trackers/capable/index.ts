/** capable: capability checks, with their verdict (capability:cap_capable tracepoint). */
import { commonColumns as c } from '../common.js';
import { capabilityName } from '../names/capabilities.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { capableMetrics, capableOriginalMetrics } from './metrics.js';
import type { CapableEvent } from './event.gen.js';

/** A capable_event and the names format adds. */
export type CapableData = CapableEvent & { cap: string; verdict: 'allowed' | 'denied' };

export const capableTracker: TrackerDescriptor = {
  name: 'capable',
  summary: 'capability checks: pid, uid, capability, allowed or denied, user namespace',
  metrics: capableMetrics,
  originalMetrics: capableOriginalMetrics,
  object: 'capable.bpf.o',
  event: { struct: 'capable_event', map: 'events' },
  options: [
    { name: 'denied', flag: 'denied', type: 'bool', default: false, description: 'only checks that were denied (in-kernel filter)', global: 'only_denied' },
    {
      name: 'unique',
      flag: 'unique',
      type: 'bool',
      default: false,
      description: 'one event per process, capability and verdict (deduplicated in the kernel)',
      global: 'unique',
    },
    {
      name: 'cap',
      flag: 'cap',
      type: 'uint',
      arg: 'N',
      description: 'only capability number N, e.g. 10 for CAP_NET_BIND_SERVICE (in-kernel filter)',
      global: 'target_cap',
      // 0 is CAP_CHOWN, so the global holds N + 1 and 0 means every capability.
      toGlobal: (v) => (v as number) + 1,
      max: 63,
    },
  ],
  columns: [
    c.pid,
    c.uid,
    c.comm,
    { key: 'cap_raw', header: 'CAP', width: 3 },
    { key: 'cap', header: 'NAME', width: 22 },
    { key: 'verdict', header: 'VERDICT', width: 7 },
    { key: 'target_ns_level', header: 'NSLEVEL' },
  ],
  format(data) {
    data.cap = capabilityName(data.cap_raw);
    data.verdict = data.ret === 0 ? 'allowed' : 'denied';
  },
} satisfies TrackerDescriptor<CapableData>;
