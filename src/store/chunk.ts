/**
 * Rows on their way to the writer: what the main thread gathers and posts as one message.
 * Numbers in one Float64Array (moved to the writer's thread, not copied), the strings that
 * repeat from row to row (tracker, container, rule) once each in a table, the records as
 * they are: a chunk costs one structured clone of its records and little else.
 */

/** Rows per chunk: sent when full (or every ~100 ms, src/store/store.ts). */
export const CHUNK_ROWS = 512;
/** Per row: kind, time, instance, then the tracker's, container's and rule's index in `strings`. */
const COLS = 6;

/** The message's part that carries the rows (src/store/protocol.ts). */
export interface ChunkData {
  n: number;
  cols: Float64Array;
  strings: string[];
  records: string[];
}

export class Chunk {
  private readonly cols = new Float64Array(CHUNK_ROWS * COLS);
  private readonly records: string[] = [];
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

  push(kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: string): void {
    const o = this.rows * COLS;
    const c = this.cols;
    c[o] = kind;
    c[o + 1] = Math.floor(time);
    c[o + 2] = instance;
    c[o + 3] = this.code(0, tracker);
    c[o + 4] = this.code(1, container);
    c[o + 5] = this.code(2, rule);
    this.records.push(record);
    this.rows++;
    this.chars += record.length;
    this.perKind[kind]++;
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
    return { n: this.rows, cols: this.cols, strings: this.strings, records: this.records };
  }
}

/** Calls `f` for each row of the chunk (no object per row). */
export function eachRow(d: ChunkData, f: (kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: string) => void): void {
  const { cols, strings, records } = d;
  for (let i = 0, o = 0; i < d.n; i++, o += COLS) f(cols[o] as 0 | 1, cols[o + 1]!, cols[o + 2]!, strings[cols[o + 3]!]!, strings[cols[o + 4]!]!, strings[cols[o + 5]!]!, records[i]!);
}
