/**
 * A family as the events of one tracker, container and comm count into it: what a tracker's
 * `update` gets (the exporter keeps one per family for each recent such triple).
 *
 * Most events are like the one before them from the same process. So a target keeps the last
 * series it counted into with its own label values, and a counter's increments for it: an
 * event like the last one is a few comparisons and an add in this object, with no Map lookup
 * and no access to the series. Next to the decoders' allocations, which sweep the CPU's
 * caches, each object touched per event is a likely cache miss: that is what this saves.
 * `flush` adds what is held back to the series (the exporter calls it before a scrape).
 *
 * Valid until the family rebuilds its index (FamilyOptions.reindexed): the exporter then
 * flushes and drops its targets.
 */
import type { Context, Family, Level, Series } from './family.js';
import type { Label, MetricTarget } from './types.js';

export class Target implements MetricTarget {
  private readonly clock: { now: number };
  private readonly histogram: boolean;
  private node: Level | Series | undefined;
  private last: Series | undefined;
  private k1: Label | undefined;
  private k2: Label | undefined;
  private k3: Label | undefined;
  private k4: Label | undefined;
  /** Counters: increments of `last` not added to it yet, and when the last of them came (the series' `seen`). */
  private held = 0;
  private heldAt = 0;

  constructor(
    private readonly family: Family,
    private readonly ctx: Context,
  ) {
    this.clock = family.clock;
    this.histogram = family.type === 'histogram';
  }

  add(value: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void {
    if (!(value === value)) return; // NaN: nothing to count
    if (!this.histogram && this.last !== undefined && l1 === this.k1 && l2 === this.k2 && l3 === this.k3 && l4 === this.k4) {
      this.held += value;
      this.heldAt = this.clock.now;
      return;
    }
    const s = this.series(l1, l2, l3, l4);
    s.value += value;
    const counts = s.counts;
    if (counts !== undefined) counts[this.family.bucketOf(value)]!++;
  }

  addCounts(upper: number, count: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void {
    const counts = this.series(l1, l2, l3, l4).counts;
    if (counts !== undefined) counts[this.family.bucketOf(upper)]! += count;
  }

  addSum(sum: number, l1?: Label, l2?: Label, l3?: Label, l4?: Label): void {
    if (sum === sum) this.series(l1, l2, l3, l4).value += sum;
  }

  /** Adds the increments held back to their series. */
  flush(): void {
    if (this.held === 0) return;
    const s = this.last!;
    s.value += this.held;
    if (this.heldAt > s.seen) s.seen = this.heldAt;
    this.held = 0;
  }

  private series(l1?: Label, l2?: Label, l3?: Label, l4?: Label): Series {
    let s = this.last;
    if (s === undefined || l1 !== this.k1 || l2 !== this.k2 || l3 !== this.k3 || l4 !== this.k4) s = this.find(l1, l2, l3, l4);
    s.seen = this.clock.now;
    return s;
  }

  private find(l1?: Label, l2?: Label, l3?: Label, l4?: Label): Series {
    const f = this.family;
    this.node ??= f.base(this.ctx);
    const s = f.seriesUnder(this.node, this.ctx, l1, l2, l3, l4);
    // Not the overflow series: each update folded into it must go through the family, which counts it.
    if (s.overflow !== true) {
      this.flush();
      this.last = s;
      this.k1 = l1;
      this.k2 = l2;
      this.k3 = l3;
      this.k4 = l4;
    }
    return s;
  }
}
