import type { TrackerEvent } from '../pipeline/types.js';
import { layoutsPerTracker, localClock, resolveColumns, type ColumnsFor, type CustomFor, type ResolvedColumn } from './format.js';

const SEP = ' ';
const TIME_WIDTH = 8; // HH:MM:SS

interface PlainLayout {
  headerPending: boolean;
  header: string;
  /** Padded tracker name + separator in multi-tracker mode, else ''. */
  prefix: string;
  cols: ResolvedColumn[];
}

/**
 * Fixed-width table. Widths are max(header length, Column.width); longer values push the rest
 * of the row right rather than being cut (ids and paths stay whole); the last column is not
 * padded. Each tracker's header is printed before its first row. When several trackers share
 * the output, a TRACKER column follows TIME in headers and rows, so interleaved rows can be
 * matched to their header (see layoutsPerTracker for when that mode starts).
 * Control characters in values are escaped (\n, \t, \xNN): values come from monitored
 * processes and must not drive the terminal.
 */
export function plainRenderer(
  columnsFor: ColumnsFor | undefined,
  multiTracker?: boolean,
  customFor?: CustomFor,
): (ev: TrackerEvent) => string {
  const layoutOf = layoutsPerTracker<PlainLayout>((ev, multi) => {
    const cols = resolveColumns(columnsFor?.(ev.tracker), ev);
    const trackerWidth = Math.max('TRACKER'.length, ev.tracker.length);
    const headers = ['TIME'.padEnd(TIME_WIDTH)];
    if (multi) headers.push('TRACKER'.padEnd(trackerWidth));
    cols.forEach((c, i) => headers.push(i < cols.length - 1 ? c.header.padEnd(c.width) : c.header));
    return {
      headerPending: true,
      header: headers.join(SEP).trimEnd() + '\n',
      prefix: multi ? escapeControls(ev.tracker).padEnd(trackerWidth) + SEP : '',
      cols,
    };
  }, multiTracker);

  return (ev) => {
    // A tracker with its own plain form (a histogram): a time/tracker line, then its text.
    const custom = customFor?.(ev.tracker);
    if (custom) return `${localClock(ev.time)} ${escapeControls(ev.tracker)}\n${custom(ev.data)}\n`;
    const lay = layoutOf(ev);
    const cols = lay.cols;
    const last = cols.length - 1;
    let line = localClock(ev.time) + SEP + lay.prefix;
    for (let i = 0; i <= last; i++) {
      const c = cols[i]!;
      const t = escapeControls(c.text(ev));
      line += i < last ? t.padEnd(c.width) + SEP : t;
    }
    if (last < 0) line = line.trimEnd();
    if (lay.headerPending) {
      lay.headerPending = false;
      return lay.header + line + '\n';
    }
    return line + '\n';
  };
}

const CONTROL_G = /[\u0000-\u001f\u007f-\u009f]/g;

/** A C0 or C1 control character, or DEL: a loop V8 inlines, cheaper per cell than a regex test. */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

export function escapeControls(s: string): string {
  if (!hasControl(s)) return s;
  return s.replace(CONTROL_G, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  });
}
