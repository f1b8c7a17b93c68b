import type { TrackerEvent } from '../pipeline/types.js';
import { layoutsPerTracker, resolveColumns, type ColumnsFor, type ResolvedColumn } from './format.js';
import { isoTime } from './json.js';

/** RFC 4180 line ending. */
const EOL = '\r\n';

interface CsvLayout {
  headerPending: boolean;
  header: string;
  /** `,tracker` value in multi-tracker mode, else ''. */
  prefix: string;
  cols: ResolvedColumn[];
}

/**
 * RFC 4180 CSV (CRLF line ends). Header names are the column keys (stable names for tools)
 * and values are raw (no display formatting: duration_ns stays in ns, lists are JSON),
 * with `time` first as ISO-8601 UTC. One header row per tracker, before its first row; when
 * several trackers share the output a `tracker` column follows `time` (see layoutsPerTracker).
 */
export function csvRenderer(columnsFor: ColumnsFor | undefined, multiTracker?: boolean): (ev: TrackerEvent) => string {
  const layoutOf = layoutsPerTracker<CsvLayout>((ev, multi) => {
    const cols = resolveColumns(columnsFor?.(ev.tracker), ev);
    const names = ['time', ...(multi ? ['tracker'] : []), ...cols.map((c) => c.key)];
    return {
      headerPending: true,
      header: names.map(csvField).join(',') + EOL,
      prefix: multi ? ',' + csvField(ev.tracker) : '',
      cols,
    };
  }, multiTracker);

  return (ev) => {
    const lay = layoutOf(ev);
    let line = (isoTime(ev.time) ?? '') + lay.prefix;
    for (const c of lay.cols) line += ',' + csvField(c.raw(ev));
    line += EOL;
    if (lay.headerPending) {
      lay.headerPending = false;
      return lay.header + line;
    }
    return line;
  };
}

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

/** Quotes a field when it holds a comma, quote, CR/LF, or leading/trailing whitespace. */
export function csvField(s: string): string {
  return NEEDS_QUOTES.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}
