/** sigsnoop: signals sent, by the sender's container and task name, the signal and the result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
import type { SigsnoopData } from './index.js';

export const sigsnoopMetrics: TrackerMetrics = {
  families: [
    {
      name: 'eunomia_signals_total',
      help: 'Signals sent or generated, by the sender\'s container and task name, the signal and the result (delivered, ignored, pending, error …).',
      type: 'counter',
      labels: ['signal', 'result'],
    },
  ],
  update(d: SigsnoopData, f) {
    const signals = f[0]!;
    signals.add(1, d.signal, d.result);
  },
};

/** The original Eunomia's (metrics.original_names): `signalId` the number, `result` 0 or -errno, as it printed them. */
export const sigsnoopOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_observed_sigsnoop_counter', help: "The original Eunomia's: signals sent, by task name, container, signal number and result.", type: 'counter', labels: ['task', 'container_name', 'signalId', 'result'], comm: false }],
  update(d: SigsnoopData, f) {
    originalTarget(f, 1, 0).add(1, d.comm, containerName(d), d.signal_raw, d.error_raw ? -d.error_raw : 0);
  },
};
