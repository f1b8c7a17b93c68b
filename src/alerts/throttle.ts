/**
 * Per rule and container: a token bucket, so an alert storm (a fork bomb tripping a rule)
 * cannot drown the agent or the people reading; what is held back is counted and reported
 * with the next alert that goes out for that key.
 */
import type { Alert } from './types.js';

export interface ThrottleOptions {
  /** Alerts let through at once per rule and container. Default 5. */
  burst?: number;
  /** Then one per this many ms. Default 10 000. */
  intervalMs?: number;
  /** Keys remembered (least recently used forgotten first). Default 10 000. */
  maxKeys?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  updated: number;
  held: number;
}

export class Throttle {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly intervalMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  private passedCount = 0;
  private heldCount = 0;

  constructor(opts: ThrottleOptions = {}) {
    this.burst = opts.burst ?? 5;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** The alert to send (with `suppressed` set when some were held back), or undefined to hold it. */
  admit(alert: Alert): Alert | undefined {
    const key = `${alert.rule}\u0000${String(alert.container?.full_id ?? alert.container?.id ?? 'host')}`;
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key); // re-insert: Map order is least recently used first
      // Whole intervals only: exact, and a bucket never drifts by rounding.
      const earned = Math.floor((now - b.updated) / this.intervalMs);
      if (earned > 0) {
        b.tokens = Math.min(this.burst, b.tokens + earned);
        b.updated += earned * this.intervalMs;
      }
    } else {
      b = { tokens: this.burst, updated: now, held: 0 };
      if (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) {
      b.held++;
      this.heldCount++;
      return undefined;
    }
    b.tokens -= 1;
    this.passedCount++;
    if (b.held === 0) return alert;
    const out = { ...alert, suppressed: b.held };
    b.held = 0;
    return out;
  }

  stats(): { passed: number; suppressed: number; keys: number } {
    return { passed: this.passedCount, suppressed: this.heldCount, keys: this.buckets.size };
  }
}
