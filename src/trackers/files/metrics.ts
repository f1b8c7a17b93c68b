/** files: reads and writes per container, task name and file type (from each interval's rows). */
import type { MetricSpec } from '../../metrics/types.js';

const counter = (name: string, help: string, field: string): MetricSpec => ({
  name,
  help,
  type: 'counter',
  labels: ['type'],
  update(d, add) {
    const n = Number(d[field]);
    if (n > 0) add(n, typeof d.type === 'string' ? d.type : '');
  },
});

export const filesMetrics: readonly MetricSpec[] = [
  counter('eunomia_file_reads_total', 'Successful read calls on files, by container, task name and file type (the files tracker\'s reported rows).', 'reads'),
  counter('eunomia_file_writes_total', 'Successful write calls on files, by container, task name and file type (the files tracker\'s reported rows).', 'writes'),
  counter('eunomia_file_read_bytes_total', 'Bytes read from files, by container, task name and file type (the files tracker\'s reported rows).', 'rbytes'),
  counter('eunomia_file_written_bytes_total', 'Bytes written to files, by container, task name and file type (the files tracker\'s reported rows).', 'wbytes'),
];
