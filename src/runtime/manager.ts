/** Holds the running tracker instances: start and stop any of them at any time. */
import { TrackerInstance, notRunning, type TrackerDeps, type TrackerStats } from './tracker.js';
import type { OptionValues, TrackerDescriptor } from './types.js';

/**
 * Memory freed since goes back to the kernel this often as well: what a burst allocated outside
 * V8's heap (request buffers, the store's chunks and SQLite's statements) is freed in scattered
 * pieces that glibc keeps (tens of MiB after 300,000 stored rows here, all of it returned by a trim).
 */
const TRIM_MS = 30_000;

export interface InstanceInfo {
  id: number;
  name: string;
  options: OptionValues;
  stats: TrackerStats;
}

export class TrackerManager {
  private readonly instances = new Map<number, TrackerInstance>();
  private nextId = 1;
  /** startAsync calls under way: stopAll waits for them, so none starts after it. */
  private readonly pending = new Set<Promise<TrackerInstance>>();
  private trimTimer?: NodeJS.Timeout;
  private readonly trimEvery: NodeJS.Timeout;

  constructor(private readonly deps: TrackerDeps) {
    this.trimEvery = setInterval(() => deps.native.trimMemory(), TRIM_MS).unref();
  }

  /** Starts a tracker from its descriptor (the catalogue's lookup is the caller's); ids start at 1 and are never reused. */
  start(d: TrackerDescriptor, options: OptionValues = {}): TrackerInstance {
    const inst = TrackerInstance.start(this.deps, d, this.nextId, options);
    this.instances.set(inst.id, inst);
    this.nextId++;
    this.trimSoon();
    return inst;
  }

  /**
   * start(), loading on a worker thread: call it for several trackers, then await them all, and
   * their objects load in parallel. The id is taken now, so ids follow the calls' order. With
   * `gate`, each attaches only once it resolves.
   */
  async startAsync(d: TrackerDescriptor, options: OptionValues = {}, gate?: Promise<unknown>): Promise<TrackerInstance> {
    const id = this.nextId++;
    const p = TrackerInstance.startAsync(this.deps, d, id, options, gate);
    this.pending.add(p);
    try {
      const inst = await p;
      this.instances.set(id, inst);
      // Loads finish in any order; the table stays in id order, as the calls were made.
      if (this.instances.size > 1) this.reorder();
      return inst;
    } finally {
      this.pending.delete(p);
      this.trimSoon();
    }
  }

  /**
   * Hot update in place: the new tracker is loaded and attached first, then the old one is
   * stopped, so no event is missed in between (both may report for a moment). The id stays,
   * and its stats keep counting (the old instance's final counts are carried over). If the
   * new one fails to start, the old one keeps running and the error is thrown.
   */
  async replace(id: number, d: TrackerDescriptor, options: OptionValues = {}): Promise<TrackerInstance> {
    const old = this.instances.get(id);
    if (!old) throw notRunning(id);
    const inst = TrackerInstance.start(this.deps, d, id, options);
    this.instances.set(id, inst);
    inst.inherit(await old.stop());
    this.trimSoon();
    return inst;
  }

  private reorder(): void {
    const sorted = [...this.instances].sort(([a], [b]) => a - b);
    this.instances.clear();
    for (const [id, inst] of sorted) this.instances.set(id, inst);
  }

  get(id: number): TrackerInstance | undefined {
    return this.instances.get(id);
  }

  async stop(id: number): Promise<TrackerStats> {
    const inst = this.instances.get(id);
    if (!inst) throw notRunning(id);
    this.instances.delete(id);
    const stats = await inst.stop();
    this.trimSoon();
    return stats;
  }

  /**
   * A load makes libbpf parse the kernel's BTF (megabytes, freed after); glibc keeps what is
   * freed unless told. Once loads and closes settle, it goes back to the kernel.
   */
  private trimSoon(): void {
    if (this.trimTimer) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = undefined;
      this.deps.native.trimMemory();
    }, 1000);
    this.trimTimer.unref();
  }

  /** The running instances themselves. */
  instancesNow(): TrackerInstance[] {
    return [...this.instances.values()];
  }

  list(): InstanceInfo[] {
    return [...this.instances.values()].map((i) => ({ id: i.id, name: i.name, options: i.options, stats: i.stats() }));
  }

  async stopAll(): Promise<Map<number, { name: string; stats: TrackerStats }>> {
    const out = new Map<number, { name: string; stats: TrackerStats }>();
    await Promise.allSettled(this.pending);
    for (const [id, inst] of [...this.instances]) {
      this.instances.delete(id);
      out.set(id, { name: inst.name, stats: await inst.stop() });
    }
    return out;
  }

  /** Synchronous teardown for exit paths. */
  stopAllNow(): void {
    for (const inst of this.instances.values()) inst.stopNow();
    this.instances.clear();
  }
}
