/** files: reads and writes per container, task name and file type (from each interval's rows). */
import type { TrackerMetrics } from '../../metrics/types.js';
import { containerName, originalTarget } from '../original-metrics.js';
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

/** The original's `type` label: the file type's letter as a number ('R' 82 regular, 'S' 83 socket, 'O' 79 other). */
const ORIGINAL_TYPE: Record<string, number> = { regular: 82, socket: 83 };

/** The original Eunomia's (metrics.original_names). */
export const filesOriginalMetrics: TrackerMetrics = {
  families: [
    { name: 'eunomia_observed_files_read_count', help: "The original Eunomia's: read calls, by task name, container and file type.", type: 'counter', labels: ['container_name', 'type'] },
    { name: 'eunomia_observed_files_write_count', help: "The original Eunomia's: write calls, by task name, container and file type.", type: 'counter', labels: ['container_name', 'type'] },
    { name: 'eunomia_observed_files_read_bytes', help: "The original Eunomia's: bytes read, by task name, container and file type.", type: 'counter', labels: ['container_name', 'type'] },
    { name: 'eunomia_observed_files_write_bytes', help: "The original Eunomia's: bytes written, by task name, container and file type.", type: 'counter', labels: ['container_name', 'type'] },
  ],
  update(d: FilesData, f) {
    const name = containerName(d);
    const type = ORIGINAL_TYPE[String(d.type)] ?? 79;
    if (Number(d.reads) > 0) originalTarget(f, 4, 0).add(Number(d.reads), name, type);
    if (Number(d.writes) > 0) originalTarget(f, 4, 1).add(Number(d.writes), name, type);
    if (Number(d.rbytes) > 0) originalTarget(f, 4, 2).add(Number(d.rbytes), name, type);
    if (Number(d.wbytes) > 0) originalTarget(f, 4, 3).add(Number(d.wbytes), name, type);
  },
};
