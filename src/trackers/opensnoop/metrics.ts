/** opensnoop: file opens per container, task name and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
import type { OpensnoopData } from './index.js';

export const opensnoopMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_file_opens_total', help: 'File opens (open, openat, openat2), by container, task name and result (ok or the errno name).', type: 'counter', labels: ['result'] },
  ],
  update(d: OpensnoopData, f) {
    const opens = f[0]!;
    opens.add(1, typeof d.error === 'string' && d.error ? d.error : 'ok');
  },
};

/** The original Eunomia's (metrics.original_names): one per open (it added the pid), `err` the errno (0: opened). */
export const opensnoopOriginalMetrics: TrackerMetrics = {
  families: [{ name: 'eunomia_observed_open_counter', help: "The original Eunomia's: file opens, by task name, container and errno (0 for none).", type: 'counter', labels: ['task', 'container_name', 'err'], comm: false }],
  update(d: OpensnoopData, f) {
    originalTarget(f, 1, 0).add(1, d.comm, containerName(d), d.error_raw);
  },
};
