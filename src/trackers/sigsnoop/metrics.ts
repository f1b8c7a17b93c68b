/** sigsnoop: signals sent, by the sender's container and task name, the signal and the result. */
import type { TrackerMetrics } from '../../metrics/types.js';
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
