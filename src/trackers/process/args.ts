/** The ARGS column of the process tracker's table. */
import { shellJoin } from '../common.js';
import type { TrackerEvent } from '../../pipeline/types.js';

/** An argument a shell takes as typed, unquoted (shellJoin's [\w@%+=:,./-]+), checked without a regex. */
function bareArg(s: unknown): boolean {
  if (typeof s !== 'string' || s === '') return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x2b && c <= 0x3a)) continue; // a-z A-Z + , - . / 0-9 :
    if (c === 0x5f || c === 0x40 || c === 0x25 || c === 0x3d) continue; // _ @ % =
    return false;
  }
  return true;
}

/**
 * The ARGS column, as shellJoin writes it. Most command lines need no quoting, and then that is
 * the `cmdline` format made already: no string built per event.
 */
export function argsText(v: unknown, ev: TrackerEvent): string {
  if (!Array.isArray(v) || v.length === 0) return '';
  const cmdline = ev.data.cmdline;
  if (typeof cmdline !== 'string') return shellJoin(v);
  for (let i = 0; i < v.length; i++) if (!bareArg(v[i])) return shellJoin(v);
  return cmdline;
}
