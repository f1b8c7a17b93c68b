/**
 * Rows on their way to the writer: what the main thread gathers and posts as one message.
 * Numbers in one Float64Array (moved to the writer's thread, not copied), the strings that
 * repeat from row to row (tracker, container, rule) once each in a table. An event's record
 * goes as its values (src/store/values.ts: the writer makes its JSON); an alert's, or an event
 * of another form, as its JSON text.
 */
import { recordJson } from './record.js';
import { isPlainEvent, Shapes, ValueBuffer, ValueReader, type ValuesData } from './values.js';
import type { TrackerEvent } from '../pipeline/types.js';

/** Rows per chunk: sent when full (or every ~100 ms, src/store/store.ts). */
export const CHUNK_ROWS = 512;
/**
 * Per row: kind, time, instance, the tracker's, container's and rule's index in `strings`, and
 * the record's shape (-1: its JSON text is in `records`).
 */
const COLS = 7;
/** Values per row a chunk has room for at first (a process event has ~43). */
const VALUES_PER_ROW = 48;
/** The fewest rows a chunk has room for at first. */
const MIN_ROOM = 16;
/** What a value is counted as against the queue's bound in memory (characters), on average. */
const VALUE_CHARS = 16;

/** The message's part that carries the rows (src/store/protocol.ts). */
export interface ChunkData {
  n: number;
  cols: Float64Array;
  strings: string[];
  /** JSON texts of the rows that are not written from values, in row order. */
  records: string[];
  values: ValuesData;
}

export class Chunk {
  private cols: Float64Array;
  private readonly records: string[] = [];
  private readonly values: ValueBuffer;
  private readonly strings: string[] = [];
  private readonly codes = new Map<string, number>();
  /** Each string column's last value and its index: rows come in runs of one tracker and container. */
  private readonly last: [string | undefined, string | undefined, string | undefined] = [undefined, undefined, undefined];
  private readonly lastCode = [0, 0, 0];
  rows = 0;
  /** Characters of the records, or an estimate from their values (the queue's bound in memory). */
  chars = 0;
  readonly perKind: [number, number] = [0, 0];

  /**
   * `shapes`: the store's, shared by its chunks. `room`: rows it has room for at first (it
   * grows to CHUNK_ROWS): as many as the chunk before held, so that an agent storing a row now
   * and then does not allocate ~250 kB of buffers for each (they would fragment the heap), and
   * one storing many does not grow each chunk on the way.
   */
  constructor(
    private readonly shapes: Shapes,
    room = CHUNK_ROWS,
  ) {
    const rows = Math.min(CHUNK_ROWS, Math.max(MIN_ROOM, 2 ** Math.ceil(Math.log2(Math.max(1, room)))));
    this.cols = new Float64Array(rows * COLS);
    this.values = new ValueBuffer(rows * VALUES_PER_ROW);
  }

  get isFull(): boolean {
    return this.rows === CHUNK_ROWS;
  }

  push(kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: TrackerEvent | object): void {
    const o = this.rows * COLS;
    if (o === this.cols.length) {
      const cols = new Float64Array(this.cols.length * 2);
      cols.set(this.cols);
      this.cols = cols;
    }
    const c = this.cols;
    c[o] = kind;
    c[o + 1] = Math.floor(time);
    c[o + 2] = instance;
    c[o + 3] = this.code(0, tracker);
    c[o + 4] = this.code(1, container);
    c[o + 5] = this.code(2, rule);
    const shape = kind === 0 && isPlainEvent(record) ? this.shapes.of((record as TrackerEvent).data, this.values.shapes) : undefined;
    if (shape) {
      const v = this.values;
      v.reserve(shape.keys.length + 1);
      v.nums[v.ni++] = (record as TrackerEvent).time;
      shape.read((record as TrackerEvent).data, v);
      c[o + 6] = shape.id;
      this.chars += (shape.keys.length + 1) * VALUE_CHARS;
    } else {
      const json = recordJson(record);
      this.records.push(json);
      c[o + 6] = -1;
      this.chars += json.length;
    }
    this.rows++;
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

  /** The rows as a message part; its typed arrays are to be transferred (the chunk is done with). */
  data(): ChunkData {
    return { n: this.rows, cols: this.cols, strings: this.strings, records: this.records, values: this.values.data() };
  }
}

/** The buffers a chunk's message moves rather than copies. */
export function transferables(d: ChunkData): ArrayBuffer[] {
  return [d.cols.buffer as ArrayBuffer, d.values.nums.buffer as ArrayBuffer, d.values.tags.buffer as ArrayBuffer];
}

/** Each row's kind and time, without its record (what a failed chunk counts). */
export function eachRowTime(d: ChunkData, f: (kind: 0 | 1, time: number) => void): void {
  for (let i = 0, o = 0; i < d.n; i++, o += COLS) f(d.cols[o] as 0 | 1, d.cols[o + 1]!);
}

/**
 * Calls `f` for each row of the chunk, with its record's JSON text; `reader` is the writer's
 * (it keeps the shapes the chunks bring, in their order).
 */
export function eachRow(d: ChunkData, reader: ValueReader, f: (kind: 0 | 1, time: number, instance: number, tracker: string, container: string, rule: string, record: string) => void): void {
  const { cols, strings, records } = d;
  reader.begin(d.values);
  let r = 0;
  for (let i = 0, o = 0; i < d.n; i++, o += COLS) {
    const tracker = strings[cols[o + 3]!]!;
    const shape = cols[o + 6]!;
    const record = shape < 0 ? records[r++]! : reader.record(shape, tracker, cols[o + 2]!);
    f(cols[o] as 0 | 1, cols[o + 1]!, cols[o + 2]!, tracker, strings[cols[o + 4]!]!, strings[cols[o + 5]!]!, record);
  }
}
