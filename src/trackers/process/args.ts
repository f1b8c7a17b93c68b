/** The ARGS column of the process tracker's table. */
import { bareArg, shellJoin } from '../common.js';
import type { TrackerEvent } from '../../pipeline/types.js';

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
