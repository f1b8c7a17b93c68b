/** What trackers share: ring sizes, argument quoting, the common header's columns. */
import type { Column } from '../pipeline/types.js';

/**
 * Ring buffer size for low-rate trackers (connects, mounts, binds…): 256 KiB holds ~2,000
 * 120-byte records between the reader thread's 10 ms polls. A ring is mapped into the agent
 * whole, its data pages twice (the kernel's wrap-around mapping), so it costs 2× its size in
 * RSS from the start: 1 MiB rings made 10 of the server's 18 MiB of mapped rings.
 */
export const LOW_RATE_RING = 1 << 18;

/**
 * Their reader's poll (TrackerDescriptor.pollMs): a record waits at most 50 ms. Draining every
 * 10 ms woke the agent 100 times a second under a steady trickle of execs, which cost more than
 * the events did.
 */
export const LOW_RATE_POLL_MS = 50;

/** An argument a shell takes as typed, unquoted ([\w@%+=:,./-]+), checked without a regex (the exec path's table rows). */
export function bareArg(s: unknown): boolean {
  if (typeof s !== 'string' || s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x2b && c <= 0x3a)) continue; // a-z A-Z + , - . / 0-9 :
    if (c === 0x5f || c === 0x40 || c === 0x25 || c === 0x3d) continue; // _ @ % =
    return false;
  }
  return true;
}

/** An argument list as a shell would need it typed: quoted only where necessary. */
export function shellJoin(args: unknown): string {
  if (!Array.isArray(args)) return '';
  return args
    .map((a) => {
      const s = String(a);
      return bareArg(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
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

/** A named stack (root first, as the profile and memleak rows hold it) as a column: its six innermost frames. */
export const leafFirstStackColumn: Column = { key: 'stack', header: 'STACK (leaf first)', format: (v) => [...(v as string[])].reverse().slice(0, 6).join(' < ') };
