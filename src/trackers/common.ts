/** What trackers share: ring sizes, argument quoting, the common header's columns. */
import type { Column } from '../pipeline/types.js';

/**
 * Ring buffer size for low-rate trackers (execs, connects, mounts…): 1 MiB holds thousands of
 * events between 10 ms polls, and a ring's pages are mapped into the agent (they count in its RSS).
 */
export const LOW_RATE_RING = 1 << 20;

/** An argument list as a shell would need it typed: quoted only where necessary. */
export function shellJoin(args: unknown): string {
  if (!Array.isArray(args)) return '';
  return args
    .map((a) => {
      const s = String(a);
      return s !== '' && /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
    })
    .join(' ');
}

const hex = (v: unknown): string => (typeof v === 'number' || typeof v === 'bigint' ? v.toString() : '');

/** Columns of the common header, for trackers to pick from. */
export const commonColumns = {
  pid: { key: 'pid', header: 'PID', width: 7 },
  ppid: { key: 'ppid', header: 'PPID', width: 7 },
  uid: { key: 'uid', header: 'UID', width: 5 },
  comm: { key: 'comm', header: 'COMM', width: 16 },
  cgroup: { key: 'cgroup_id', header: 'CGROUP', width: 6, format: hex },
  mntns: { key: 'mnt_ns', header: 'MNTNS', width: 10 },
} satisfies Record<string, Column>;
