/** mountsnoop: mount, umount and the new mount API (syscall tracepoints). */
import { errnoName } from '../names/errno.js';
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { attrFlags, callFlags } from './flags.js';
import { mountsnoopMetrics, mountsnoopOriginalMetrics } from './metrics.js';
import type { MountEvent } from './event.gen.js';

/** A mount_event and the names format adds. */
export type MountsnoopData = MountEvent & { flags: string; attr: string; error: string };

export const mountsnoopTracker: TrackerDescriptor = {
  name: 'mountsnoop',
  summary: 'mount, umount and the new mount API (fsopen, fsconfig, fsmount, move_mount, open_tree, fspick): source, target, type, flags, options, result, mount namespace',
  metrics: mountsnoopMetrics,
  originalMetrics: mountsnoopOriginalMetrics,
  object: 'mountsnoop.bpf.o',
  event: { struct: 'mount_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  options: [],
  columns: [
    c.pid,
    c.comm,
    c.mntns,
    { key: 'call', header: 'CALL', width: 10 },
    { key: 'error', header: 'ERR', width: 6 },
    { key: 'fs_type', header: 'TYPE', width: 8 },
    { key: 'source', header: 'SOURCE', width: 12 },
    { key: 'target', header: 'TARGET', width: 20 },
    { key: 'flags', header: 'FLAGS', width: 16 },
    { key: 'data', header: 'DATA' },
  ],
  format(d) {
    d.flags = callFlags(d.call, d.flags_raw);
    d.attr = attrFlags(d.attr_raw);
    d.error = errnoName(d.error_raw);
  },
} satisfies TrackerDescriptor<MountsnoopData>;
