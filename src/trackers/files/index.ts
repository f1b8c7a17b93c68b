/** files: reads and writes per process and file, counted in the kernel (like filetop). */
import { release } from 'node:os';
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { commonColumns as c } from '../common.js';
import type { OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { filesMetrics, filesOriginalMetrics } from './metrics.js';
import type { FilesEntry, FilesKey, FilesStats } from './event.gen.js';

/** A row: a file's key and its summed counts; format adds the file type and the device as text. */
export type FilesData = FilesKey & FilesStats & { type?: string; dev?: string };

/** The file type from the S_IFMT bits of i_mode. */
export function fileType(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'regular';
    case 0o140000:
      return 'socket';
    case 0o010000:
      return 'pipe';
    case 0o020000:
      return 'chardev';
    default:
      return 'other';
  }
}

/** A kernel dev_t (major << 20 | minor) as "major:minor", as in /proc/<pid>/mountinfo. */
export function devString(dev: number): string {
  return `${dev >>> 20}:${dev & 0xfffff}`;
}

/**
 * files_exit reads the fd table and inode with direct loads (bpf_rdonly_cast to void, Linux
 * 6.17+); files_exit_compat with one bpf_probe_read_kernel call per field (~130 ns more per
 * read or write on a 2-vCPU VM).
 */
export function fastReads(kernel = release()): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 17));
}

const SORTS = {
  all: (r: FilesData) => Number(r.reads) + Number(r.writes) + Number(r.rbytes) + Number(r.wbytes),
  reads: (r: FilesData) => Number(r.reads),
  writes: (r: FilesData) => Number(r.writes),
  rbytes: (r: FilesData) => Number(r.rbytes),
  wbytes: (r: FilesData) => Number(r.wbytes),
} as const;

function sortKey(options: OptionValues): (r: FilesData) => number {
  const s = String(options.sort ?? 'all');
  if (!Object.hasOwn(SORTS, s)) {
    throw new EunomiaError(ErrorCodes.OPTION, `tracker files: option sort: expected one of ${Object.keys(SORTS).join(', ')}, got "${s}"`);
  }
  return SORTS[s as keyof typeof SORTS];
}

/** Rows sorted by --sort here (the runtime's sortBy is one fixed field). */
function rows(entries: FilesEntry[], options: OptionValues): FilesData[] {
  const key = sortKey(options);
  const out = entries.map(({ key: k, value }) => ({ ...k, ...value }));
  return out.sort((a, b) => key(b) - key(a));
}

export const filesTracker: TrackerDescriptor = {
  name: 'files',
  summary: 'reads and writes per process and file (count, bytes, type, path), top N every interval, like filetop',
  metrics: filesMetrics,
  originalMetrics: filesOriginalMetrics,
  object: 'files.bpf.o',
  interval: { map: 'files', seconds: 3, top: 20, rows },
  options: [
    {
      name: 'allFiles',
      flag: 'all-files',
      type: 'bool',
      default: false,
      description: 'also sockets, pipes, devices and other non-regular files (in-kernel filter)',
      global: 'all_files',
    },
    {
      name: 'sort',
      flag: 'sort',
      type: 'string',
      arg: 'KEY',
      default: 'all',
      description: 'sort rows by reads, writes, rbytes, wbytes or all (their sum; default)',
    },
  ],
  validate: (options) => void sortKey(options),
  programs: () => [fastReads() ? 'files_exit' : 'files_exit_compat'],
  columns: [
    c.pid,
    c.comm,
    { key: 'reads', header: 'READS', width: 7 },
    { key: 'writes', header: 'WRITES', width: 7 },
    { key: 'rbytes', header: 'R_KB', width: 9, format: (v) => (Number(v) / 1024).toFixed(1) },
    { key: 'wbytes', header: 'W_KB', width: 9, format: (v) => (Number(v) / 1024).toFixed(1) },
    { key: 'type', header: 'T', width: 7 },
    { key: 'name', header: 'FILE', width: 20 },
    { key: 'path', header: 'PATH' },
  ],
  format: (data) => {
    data.type = fileType(Number(data.mode_raw));
    data.dev = devString(Number(data.dev_raw));
    // Pipes and sockets have no path and often no name: show them as /proc/<pid>/fd does.
    if (!data.name) data.name = `${data.type}:[${String(data.inode)}]`;
  },
} satisfies TrackerDescriptor<FilesData, FilesEntry>;
