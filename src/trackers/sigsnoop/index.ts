/** sigsnoop: signals sent, by syscall or by the kernel, with target and result. */
import { errnoName } from '../names/errno.js';
import { signalName } from '../names/signals.js';
import { commonColumns as c } from '../common.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { sigsnoopMetrics, sigsnoopOriginalMetrics } from './metrics.js';
import type { SignalEvent } from './event.gen.js';

/** A signal_event and the names format adds; `result` is the delivery's name when it has none of its own. */
export type SigsnoopData = SignalEvent & { signal: string; error: string; result: string | number };

export const sigsnoopTracker: TrackerDescriptor = {
  name: 'sigsnoop',
  summary: 'signals sent (kill, tkill, tgkill, sigqueue, pidfd and kernel-generated): sender, target, signal, result',
  metrics: sigsnoopMetrics,
  originalMetrics: sigsnoopOriginalMetrics,
  object: 'sigsnoop.bpf.o',
  event: { struct: 'signal_event', map: 'events' },
  options: [
    {
      name: 'signal',
      flag: 'signal',
      type: 'uint',
      arg: 'N',
      description: 'only signal number N (in-kernel filter)',
      global: 'target_signal',
      max: 64,
    },
    {
      name: 'failed',
      flag: 'failed',
      type: 'bool',
      default: false,
      description: 'only sends that failed: an errno, or a real-time signal dropped (in-kernel filter)',
      global: 'failed_only',
    },
  ],
  columns: [
    c.pid,
    c.comm,
    { key: 'source', header: 'SOURCE', width: 7 },
    { key: 'signal', header: 'SIGNAL', width: 8 },
    { key: 'target_pid', header: 'TPID', width: 7 },
    { key: 'target_comm', header: 'TCOMM', width: 16 },
    { key: 'result', header: 'RESULT' },
  ],
  format(d) {
    d.signal = signalName(d.signal_raw);
    d.error = errnoName(d.error_raw);
    // The errno if the send failed, else what the kernel did with the signal.
    d.result = d.error || (d.delivery === 'none' ? 'ok' : d.delivery);
  },
} satisfies TrackerDescriptor<SigsnoopData>;
