/** Trackers with the container resolver and enrichment, on the real kernel and Docker engine. */
import { systemClock } from '../../src/core/clock.js';
import { preflight } from '../../src/core/kernel.js';
import { TrackerManager } from '../../src/runtime/manager.js';
import { loadNative } from '../../src/core/native.js';
import type { TrackerInstance } from '../../src/runtime/tracker.js';
import { containerScopes, enrichHandler, startContainers, type Containers, type EnrichHandler, type RuntimeClient } from '../../src/containers/index.js';
import type { ContainerField } from '../../src/containers/enrich.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { countingSink } from '../../src/pipeline/handlers.js';
import type { TrackerEvent } from '../../src/pipeline/types.js';
import type { OptionValues, TrackerDescriptor } from '../../src/runtime/types.js';
import type { KernelWatch } from '../helpers.js';

export const containerOf = (ev: TrackerEvent): ContainerField | undefined => ev.data.container as ContainerField | undefined;

export class Rig {
  readonly events: TrackerEvent[] = [];
  readonly log: string[] = [];
  readonly manager: TrackerManager;
  readonly pipeline: Pipeline;
  readonly enrich: EnrichHandler;

  private constructor(
    readonly containers: Containers,
    private readonly watch?: KernelWatch,
  ) {
    this.enrich = enrichHandler(containers.resolver);
    const events = this.events;
    const collect = countingSink('collect');
    this.pipeline = new Pipeline({
      handlers: [this.enrich],
      sinks: [{ ...collect, name: 'collect', write: (ev) => (collect.write(ev), events.push(ev)) }],
    });
    this.manager = new TrackerManager({ native: loadNative(), clock: systemClock(), emit: this.pipeline.push, scope: containerScopes(containers.resolver) });
  }

  /** `watch` notes every kernel object the rig holds (the watcher's, each tracker's). */
  static async start(watch?: KernelWatch, clients?: RuntimeClient[]): Promise<Rig> {
    const native = loadNative();
    preflight(native);
    const log: string[] = [];
    const containers = await startContainers(native, { log: (l) => log.push(l), ...(clients ? { clients } : {}) });
    // The runtimes' first answers, as the tests read them (the agent does not wait for them).
    await containers.ready;
    const rig = new Rig(containers, watch);
    // Lines logged later (runtime lost, back) land here too.
    rig.log.push(...log);
    log.push = (...lines: string[]) => rig.log.push(...lines);
    watch?.note();
    return rig;
  }

  track(d: TrackerDescriptor, options: OptionValues = {}): TrackerInstance {
    const inst = this.manager.start(d, { includeSelf: true, ...options });
    this.watch?.note();
    return inst;
  }

  /** Waits until `pred` holds over the events seen so far; false after `ms`. */
  async until(pred: (events: TrackerEvent[]) => boolean, ms = 8000): Promise<boolean> {
    const end = Date.now() + ms;
    while (!pred(this.events)) {
      if (Date.now() > end) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  async close(): Promise<void> {
    await this.manager.stopAll();
    await this.pipeline.close();
    await this.containers.close();
  }
}
