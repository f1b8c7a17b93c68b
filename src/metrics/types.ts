/** What a tracker declares to have its events counted as Prometheus metric families (docs/metrics.md). */

/**
 * Called by a family's `update` once per series the event adds to: the amount (a counter's
 * increment, or the value a histogram observes, in base units) and the family's own label
 * values, in the order of `labels`. Positional, so that the hot path allocates no array.
 */
export type MetricAdd = (value: number, l1?: string, l2?: string, l3?: string, l4?: string) => void;

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
  /** One event: call `add` for what it counts (any number of times, or not at all). Hot path. */
  update(data: Record<string, unknown>, add: MetricAdd): void;
  /**
   * Histograms of rows that are histograms already (tcprtt's log2 slots), instead of `update`:
   * call `put` with `count` observations that are all ≤ `upper`, and return their sum.
   * Such a family has no labels of its own.
   */
  updateCounts?(data: Record<string, unknown>, put: (upper: number, count: number) => void): number;
}
