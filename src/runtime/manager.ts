/** Holds the running tracker instances: start and stop any of them at any time. */
import { TrackerInstance, notRunning, type TrackerDeps, type TrackerStats } from './tracker.js';
import type { OptionValues, TrackerDescriptor } from './types.js';

export interface InstanceInfo {
  id: number;
  name: string;
  options: OptionValues;
  stats: TrackerStats;
}

export class TrackerManager {
  private readonly instances = new Map<number, TrackerInstance>();
  private nextId = 1;

  constructor(private readonly deps: TrackerDeps) {}

  /** Starts a tracker from its descriptor (the catalogue's lookup is the caller's); ids start at 1 and are never reused. */
  start(d: TrackerDescriptor, options: OptionValues = {}): TrackerInstance {
    const inst = TrackerInstance.start(this.deps, d, this.nextId, options);
    this.instances.set(inst.id, inst);
    this.nextId++;
    return inst;
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
    return inst;
  }

  get(id: number): TrackerInstance | undefined {
    return this.instances.get(id);
  }

  async stop(id: number): Promise<TrackerStats> {
    const inst = this.instances.get(id);
    if (!inst) throw notRunning(id);
    this.instances.delete(id);
    return inst.stop();
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
