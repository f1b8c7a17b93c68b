/** Times and durations in query parameters: ISO-8601, ms since the epoch, or relative to now. */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
// Before 2001-09-09 in ms: a number this small is almost surely seconds since the epoch.
const MIN_EPOCH_MS = 1e12;

/** A duration like `15m`, `1.5h`, `7d`, `500ms`, in ms; undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_RE.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : undefined;
}

/**
 * A point in time, ms since the epoch: `now`, `-15m` (relative to `now`), digits (ms since the
 * epoch), or ISO-8601 (`2024-05-01`, `2024-05-01T10:00:00Z`; without a zone, UTC as Date does
 * for a date alone). Returns a message saying what is accepted when the text is none of these.
 */
export function parseTime(text: string, now: number): number | string {
  const t = text.trim();
  if (t === 'now') return now;
  if (t.startsWith('-')) {
    const d = parseDuration(t.slice(1));
    return d === undefined ? `"${text}" is not a relative time: write -30s, -15m, -2h, -7d` : now - d;
  }
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    if (n < MIN_EPOCH_MS) return `${text} is before 2001 as ms since the epoch: give milliseconds (seconds × 1000), ISO-8601 or -15m`;
    return n;
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const n = Date.parse(t);
    if (!Number.isNaN(n)) return n;
  }
  return `"${text}" is not a time: give ISO-8601 (2024-05-01T10:00:00Z), ms since the epoch, "now" or a relative time like -15m`;
}
