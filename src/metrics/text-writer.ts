/**
 * The Prometheus text format built as bytes in one Buffer: each series' line text copied from
 * its family's arena (another TextWriter, where it lies with its neighbours), numbers written
 * as digits. A scrape
 * of tens of thousands of series then makes no string per line and joins none: building it
 * from strings scattered over the heap took 3–5× longer (bench: `npm run bench -- metrics`).
 */
import { numText } from './num-text.js';

export class TextWriter {
  private buf: Buffer;
  private n = 0;
  private readonly digits = new Uint8Array(20);

  constructor(size = 1 << 16) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** `len` bytes of `src` from `at`. */
  bytes(src: Buffer, at: number, len: number): void {
    this.room(len);
    const out = this.buf;
    let n = this.n;
    // Lines are short: a loop beats a native copy call below a few dozen bytes.
    if (len > 48) {
      src.copy(out, n, at, at + len);
      n += len;
    } else {
      for (let k = 0; k < len; k++) out[n++] = src[at + k]!;
    }
    this.n = n;
  }

  /** Writes `s` as UTF-8; returns its length in bytes. */
  text(s: string): number {
    this.room(s.length * 3);
    const len = this.buf.write(s, this.n, 'utf8');
    this.n += len;
    return len;
  }

  /** A sample value, then the end of its line. */
  value(v: number): void {
    if (!(v >= 0 && Number.isSafeInteger(v))) {
      this.text(numText(v));
    } else {
      this.room(20);
      const d = this.digits;
      let k = 0;
      do {
        d[k++] = 48 + (v % 10);
        v = Math.floor(v / 10);
      } while (v > 0);
      const out = this.buf;
      let n = this.n;
      while (k > 0) out[n++] = d[--k]!;
      this.n = n;
    }
    this.room(1);
    this.buf[this.n++] = 10;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.n;
  }

  /** What was written (a view of the writer's buffer). */
  result(): Buffer {
    return this.buf.subarray(0, this.n);
  }

  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.n + k));
    this.buf.copy(b, 0, 0, this.n);
    this.buf = b;
  }
}
