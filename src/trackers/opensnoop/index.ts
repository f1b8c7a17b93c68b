/** opensnoop: open, openat and openat2 with flags, mode and result (syscall tracepoints). */
import { errnoName } from '../names/errno.js';
import { commonColumns as c } from '../common.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { createsFile, octalMode, openFlags, opensForWriting, resolveFlags } from '../names/open-flags.js';
import { opensnoopMetrics, opensnoopOriginalMetrics } from './metrics.js';
import type { OpenEvent } from './event.gen.js';

/** An open_event and the names format adds ('' for no mode, no resolve flags, no error). */
export type OpensnoopData = OpenEvent & { flags: string; write: boolean; mode: string; resolve: string; error: string };

/** char path_prefix[64] in the object, with its NUL. */
const PREFIX_MAX = 63;

export const opensnoopTracker: TrackerDescriptor = {
  name: 'opensnoop',
  summary: 'file opens (open, openat, openat2): path, flags, mode, fd or errno',
  metrics: opensnoopMetrics,
  originalMetrics: opensnoopOriginalMetrics,
  object: 'opensnoop.bpf.o',
  event: { struct: 'open_event', map: 'events' },
  // 2 MiB: ~5,800 records of 360 bytes, 58 ms of 100,000 opens/s ahead of the reader thread, which
  // drains every 10 ms under load; it costs 4 MiB of RSS (common.ts).
  ringBytes: 1 << 21,
  options: [
    {
      name: 'failed',
      flag: 'failed',
      type: 'bool',
      default: false,
      description: 'only opens that failed (in-kernel filter)',
      global: 'failed_only',
    },
    {
      name: 'pathPrefix',
      flag: 'path-prefix',
      type: 'string',
      arg: 'PREFIX',
      description: `only paths starting with PREFIX, as passed to open (in-kernel filter, at most ${PREFIX_MAX} bytes)`,
      global: 'path_prefix',
    },
  ],
  columns: [
    c.pid,
    c.comm,
    { key: 'syscall', header: 'CALL', width: 7 },
    { key: 'fd', header: 'FD', width: 4, format: (v, ev) => (ev.data.error ? '' : String(v)) },
    { key: 'error', header: 'ERR', width: 7 },
    { key: 'flags', header: 'FLAGS', width: 28 },
    { key: 'mode', header: 'MODE', width: 4 },
    { key: 'path', header: 'PATH' },
  ],
  format(d) {
    const flags = d.flags_raw;
    d.flags = openFlags(flags);
    d.write = opensForWriting(flags);
    d.mode = createsFile(flags) ? octalMode(d.mode_raw) : '';
    d.resolve = resolveFlags(d.resolve_raw);
    d.error = errnoName(d.error_raw);
  },
} satisfies TrackerDescriptor<OpensnoopData>;
