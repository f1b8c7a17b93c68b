/** sigsnoop: signals sent, by the sender's container and task name, the signal and the result. */
import type { MetricSpec } from '../../metrics/types.js';

export const sigsnoopMetrics: readonly MetricSpec[] = [
  {
    name: 'eunomia_signals_total',
    help: 'Signals sent or generated, by the sender\'s container and task name, the signal and the result (delivered, ignored, pending, error …).',
    type: 'counter',
    labels: ['signal', 'result'],
    update(d, add) {
      add(1, String(d.signal), String(d.result));
    },
  },
];
