/** opensnoop: file opens per container, task name and result. */
import type { TrackerMetrics } from '../../metrics/types.js';
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
