/** Counts over time as bars (SVG made of elements: no markup from data, no inline style). */

export interface BarsProps {
  counts: readonly number[];
  width?: number;
  height?: number;
  /** Room for this many bars (a series still filling up is drawn from the right). */
  slots?: number;
  /** Text for each bar's tooltip. */
  label?(i: number, n: number): string;
  class?: string;
}

export function Bars(p: BarsProps) {
  const w = p.width ?? 300;
  const h = p.height ?? 40;
  const max = Math.max(1, ...p.counts);
  const slots = Math.max(1, p.slots ?? p.counts.length);
  const bw = w / slots;
  const offset = Math.max(0, slots - p.counts.length);
  return (
    <svg class={p.class ?? 'bars'} viewBox={`0 0 ${w} ${h}`} width={w} height={h} role="img">
      {p.counts.map((n, i) => {
        const bh = n ? Math.max(1, (n / max) * (h - 2)) : 0;
        return (
          <rect key={i} x={(offset + i) * bw + 0.5} y={h - bh} width={Math.max(1, bw - 1)} height={bh}>
            {p.label ? <title>{p.label(i, n)}</title> : null}
          </rect>
        );
      })}
    </svg>
  );
}

/** `n` equal buckets over [from, to]: the counts of `times` in each. */
export function bucket(times: Iterable<number>, from: number, to: number, n: number): number[] {
  const out = new Array<number>(n).fill(0);
  const span = Math.max(1, to - from);
  for (const t of times) {
    if (t < from || t > to) continue;
    out[Math.min(n - 1, Math.floor(((t - from) / span) * n))]!++;
  }
  return out;
}
