/** files: reads and writes per container, task name and file type (from each interval's rows). */
import type { TrackerMetrics } from '../../metrics/types.js';
import type { FilesData } from './index.js';

const rows = 'by container, task name and file type (the files tracker\'s reported rows)';

export const filesMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_file_reads_total', help: `Successful read calls on files, ${rows}.`, type: 'counter', labels: ['type'] },
    { name: 'eunomia_file_writes_total', help: `Successful write calls on files, ${rows}.`, type: 'counter', labels: ['type'] },
    { name: 'eunomia_file_read_bytes_total', help: `Bytes read from files, ${rows}.`, type: 'counter', labels: ['type'] },
    { name: 'eunomia_file_written_bytes_total', help: `Bytes written to files, ${rows}.`, type: 'counter', labels: ['type'] },
  ],
  update(d: FilesData, f) {
    const reads = f[0]!;
    const writes = f[1]!;
    const rbytes = f[2]!;
    const wbytes = f[3]!;
    const type = typeof d.type === 'string' ? d.type : '';
    // Only what happened: a row of reads has no write series.
    if (Number(d.reads) > 0) reads.add(Number(d.reads), type);
    if (Number(d.writes) > 0) writes.add(Number(d.writes), type);
    if (Number(d.rbytes) > 0) rbytes.add(Number(d.rbytes), type);
    if (Number(d.wbytes) > 0) wbytes.add(Number(d.wbytes), type);
  },
};
