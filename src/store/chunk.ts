/**
 * Rows on their way to the writer: what the main thread gathers and posts as one message.
 * Numbers in one Float64Array (moved to the writer's thread, not copied), the strings that
 * repeat from row to row (tracker, container, rule) once each in a table, and the records as
 * JSON arrays of up to BATCH_ROWS records each: one JSON.stringify per batch, not per row (each
 * call has its own set-up and its own result to copy; per row that was ~40 % of the cost), and
 * few strings to clone. The writer cuts each array into its rows' texts (splitJsonArray).
 */
import { recordJson } from './record.js';

/** Records serialized together; they wait on the main thread until then (a few ms at most). */
export const BATCH_ROWS = 32;
/** Rows per chunk: sent when full (or every ~100 ms, src/store/store.ts). */
export const CHUNK_ROWS = 512;
/** Per row: kind, time, instance, then the tracker's, container's and rule's index in `strings`. */
const COLS = 6;

/** The message's part that carries the rows (src/store/protocol.ts). */
export interface ChunkData {
  n: number;
  cols: Float64Array;
  strings: string[];
  /** JSON arrays of the rows' records, in row order. */
  batches: string[];
}

export class Chunk {
  private readonly cols = new Float64Array(CHUNK_ROWS * COLS);
  private readonly batches: string[] = [];
  /** Records not serialized yet (fewer than BATCH_ROWS). */
  private pending: unknown[] = [];
  private readonly strings: string[] = [];
  private readonly codes = new Map<string, number>();
  /** Each string column's last value and its index: rows come in runs of one tracker and container. */
  private readonly last: [string | undefined, string | undefined, string | undefined] = [undefined, undefined, undefined];
  private readonly lastCode = [0, 0, 0];
  rows = 0;
  /** Characters of the records (the queue's bound in memory). */
  chars = 0;
  readonly perKind: [number, number] = [0, 0];

  get isFull(): boolean {
    return this.rows === CHUNK_ROWS;
  }

  push(kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: unknown): void {
    const o = this.rows * COLS;
    const c = this.cols;
    c[o] = kind;
    c[o + 1] = Math.floor(time);
    c[o + 2] = instance;
    c[o + 3] = this.code(0, tracker);
    c[o + 4] = this.code(1, container);
    c[o + 5] = this.code(2, rule);
    this.pending.push(record);
    this.rows++;
    this.perKind[kind]++;
    if (this.pending.length === BATCH_ROWS) this.serialize();
  }

  private serialize(): void {
    const json = recordsJson(this.pending);
    this.batches.push(json);
    this.chars += json.length;
    this.pending = [];
  }

  private code(col: 0 | 1 | 2, s: string): number {
    if (s === this.last[col]) return this.lastCode[col]!;
    let code = this.codes.get(s);
    if (code === undefined) {
      code = this.strings.length;
      this.strings.push(s);
      this.codes.set(s, code);
    }
    this.last[col] = s;
    this.lastCode[col] = code;
    return code;
  }

  /** The rows as a message part; the numbers' buffer is to be transferred (the chunk is done with). */
  data(): ChunkData {
    if (this.pending.length) this.serialize();
    return { n: this.rows, cols: this.cols, strings: this.strings, batches: this.batches };
  }
}

/** A batch as one JSON array; where JSON.stringify refuses (a bigint), record by record (recordJson). */
function recordsJson(records: unknown[]): string {
  try {
    return JSON.stringify(records);
  } catch {
    return `[${records.map(recordJson).join(',')}]`;
  }
}

/**
 * The elements' texts of a JSON array of objects, as JSON.stringify writes it (no white space):
 * each from its `{` to the matching `}`, braces inside strings skipped.
 */
export function splitJsonArray(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // A string: to its closing quote, over escapes.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (depth++ === 1) start = i;
    } else if (c === 125 || c === 93) {
      if (--depth === 1) out.push(text.slice(start, i + 1));
    }
  }
  return out;
}

/** Each row's kind and time, without its record (what a failed chunk counts). */
export function eachRowTime(d: ChunkData, f: (kind: 0 | 1, time: number) => void): void {
  for (let i = 0, o = 0; i < d.n; i++, o += COLS) f(d.cols[o] as 0 | 1, d.cols[o + 1]!);
}

/** Calls `f` for each row of the chunk (no object per row). */
export function eachRow(d: ChunkData, f: (kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: string) => void): void {
  const { cols, strings } = d;
  let i = 0;
  let o = 0;
  for (const batch of d.batches) {
    for (const record of splitJsonArray(batch)) {
      f(cols[o] as 0 | 1, cols[o + 1]!, cols[o + 2]!, strings[cols[o + 3]!]!, strings[cols[o + 4]!]!, strings[cols[o + 5]!]!, record);
      i++;
      o += COLS;
    }
  }
  if (i !== d.n) throw new Error(`store: a chunk of ${d.n} rows holds ${i} records`);
}
