/** log2 histograms: the kernel counts into slot floor(log2(v)); user space shows them. */

export interface Bucket {
  /** Inclusive lower and upper bounds of the bucket, in the histogram's unit. */
  low: number;
  high: number;
  count: number;
}

/** Slot i holds values in [2^i, 2^(i+1) - 1] (slot 0 holds 0 and 1); trailing empty slots dropped. */
export function log2Buckets(slots: readonly number[]): Bucket[] {
  let last = slots.length - 1;
  while (last >= 0 && !slots[last]) last--;
  const out: Bucket[] = [];
  for (let i = 0; i <= last; i++) out.push({ low: i === 0 ? 0 : 2 ** i, high: 2 ** (i + 1) - 1, count: Number(slots[i] ?? 0) });
  return out;
}

/** Text like libbpf-tools' print_log2_hist: range, count, and a bar of stars. */
export function histogramText(buckets: readonly Bucket[], unit: string, width = 40): string {
  if (buckets.length === 0) return `     (no samples)`;
  const max = Math.max(...buckets.map((b) => b.count), 1);
  const rangeWidth = Math.max(...buckets.map((b) => `${b.low} -> ${b.high}`.length), unit.length + 2);
  const lines = [`${unit.padStart(rangeWidth)} : count     distribution`];
  for (const b of buckets) {
    const stars = Math.round((b.count / max) * width);
    lines.push(`${`${b.low} -> ${b.high}`.padStart(rangeWidth)} : ${String(b.count).padEnd(9)} |${'*'.repeat(stars).padEnd(width)}|`);
  }
  return lines.join('\n');
}
