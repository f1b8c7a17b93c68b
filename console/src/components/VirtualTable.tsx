/**
 * A table that renders only the rows in view (plus a margin): tens of thousands of rows cost
 * the same as a screenful. Rows have one height; each is placed by a transform, so scrolling
 * moves no layout. Every cell is text.
 */
import type { ComponentChildren } from 'preact';
import { useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface VColumn<T> {
  id: string;
  title: string;
  value(r: T): string;
  /** A click on the value calls onCellClick (it filters on it) instead of selecting the row. */
  filterable?: boolean;
}

export interface VirtualTableProps<T> {
  rows: readonly T[];
  columns: readonly VColumn<T>[];
  rowKey(r: T): number | string;
  rowHeight?: number;
  selected?: number | string | undefined;
  onSelect?(r: T): void;
  onCellClick?(column: VColumn<T>, value: string, r: T): void;
  /** The scroll offset, on every scroll (0: at the top, where new rows come in). */
  onScrollTop?(top: number): void;
  onHover?(inside: boolean): void;
  rowClass?(r: T): string;
  /** Shown in the body when there are no rows. */
  empty?: ComponentChildren;
  /** Above the rows, below the titles (the column filters). */
  header?: ComponentChildren;
}

const OVERSCAN = 8;

export function VirtualTable<T>(p: VirtualTableProps<T>) {
  const body = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useLayoutEffect(() => {
    const el = body.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const rh = p.rowHeight ?? 24;
  const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
  const last = Math.min(p.rows.length, Math.ceil((top + height) / rh) + OVERSCAN);
  const slice = p.rows.slice(first, last);
  return (
    <div class="vt">
      <div class="vt-head">
        {p.columns.map((c) => (
          <span key={c.id} class={`cell col-${c.id}`}>
            {c.title}
          </span>
        ))}
      </div>
      {p.header}
      <div
        class="vt-body"
        ref={body}
        onScroll={(e) => {
          const t = (e.currentTarget as HTMLDivElement).scrollTop;
          setTop(t);
          p.onScrollTop?.(t);
        }}
        onMouseEnter={() => p.onHover?.(true)}
        onMouseLeave={() => p.onHover?.(false)}
      >
        {p.rows.length === 0 && p.empty ? <div class="vt-empty">{p.empty}</div> : null}
        <div class="vt-spacer" style={{ height: `${p.rows.length * rh}px` }}>
          {slice.map((r, j) => {
            const key = p.rowKey(r);
            return (
              <div
                key={key}
                data-key={key}
                class={`vt-row${key === p.selected ? ' selected' : ''}${p.rowClass ? ` ${p.rowClass(r)}` : ''}`}
                style={{ transform: `translateY(${(first + j) * rh}px)`, height: `${rh}px` }}
                onClick={() => p.onSelect?.(r)}
              >
                {p.columns.map((c) => {
                  const v = c.value(r);
                  return (
                    <span key={c.id} class={`cell col-${c.id}`} title={v}>
                      {c.filterable && v && p.onCellClick ? (
                        <span
                          class="val"
                          onClick={(e) => {
                            e.stopPropagation();
                            p.onCellClick!(c, v, r);
                          }}
                        >
                          {v}
                        </span>
                      ) : (
                        v
                      )}
                    </span>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
