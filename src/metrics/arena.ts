/**
 * The line texts of a family's series, one after another in one Buffer, so that a scrape
 * reads them in order (TextWriter). Dropped series leave their bytes behind (`dead`) until the
 * family compacts: `from` copies the live ones into a new arena.
 */
export class Arena {
  buf: Buffer;
  used = 0;
  /** Bytes of series dropped since the arena was made. */
  dead = 0;

  constructor(size = 4096) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Appends `s` as UTF-8 at `used`; returns its length in bytes. */
  put(s: string): number {
    this.room(s.length * 3);
    const len = this.buf.write(s, this.used, 'utf8');
    this.used += len;
    return len;
  }

  /** Appends `len` bytes of another arena from `at`; returns where they start here. */
  copy(from: Arena, at: number, len: number): number {
    this.room(len);
    from.buf.copy(this.buf, this.used, at, at + len);
    const here = this.used;
    this.used += len;
    return here;
  }

  private room(k: number): void {
    if (this.used + k <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + k));
    this.buf.copy(b, 0, 0, this.used);
    this.buf = b;
  }
}
