/** What a tracker declares to have its events counted as Prometheus metric families (docs/metrics.md). */

/** One metric family. */
export interface MetricSpec {
  /** eunomia_<subject>_<unit>_<suffix>; counters end in _total. */
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  /** The family's own labels (at most four, bounded values only), after the container labels and `comm`. */
  labels: readonly string[];
  /** Label the series by the task name too (default true). */
  comm?: boolean;
  /** Histograms: upper bounds, ascending, in base units (+Inf is implied). */
  buckets?: readonly number[];
}

/**
 * A label value: text, or a number (a port, an errno) that becomes its decimal text. Numbers
 * are looked up faster than fresh strings, and are only turned into text for a new series.
 */
export type Label = string | number;

/** What a tracker's `update` counts into: one of its families, for the event at hand. */
export interface MetricTarget {
  /**
   * Adds `value` (a counter's increment; for a histogram, one observation in base units) to
   * the series of the event with these own label values, in the order of `labels`.
   * Positional, so that the hot path allocates no array.
   */
  add(value: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void;
  /** Histograms of rows that are histograms already (log2 slots): `count` observations all ≤ `upper`, in the series of these label values. */
  addCounts(upper: number, count: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void;
  /** …and the sum of those observations. */
  addSum(sum: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void;
}

export interface TrackerMetrics {
  families: readonly MetricSpec[];
  /**
   * One event: count it into `f` (f[i] is families[i]). Hot path: one call per event for all
   * of the tracker's families.
   */
  update(data: Record<string, unknown>, f: readonly MetricTarget[]): void;
}
