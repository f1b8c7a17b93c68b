/** A running tracker instance: its object loaded and attached, its events decoded into the pipeline. */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileDecoder, type Decoder } from './btf/index.js';
import { IntervalReader } from './interval.js';
import { BpfObject, CONTAINER_FILTER_PROGRAM, type BpfReader } from './bpf-object.js';
import type { Clock } from './clock.js';
import { EunomiaError, ErrorCodes } from './errors.js';
import type { NativeBinding } from './native.js';
import { objectDir } from './paths.js';
import type { Emit } from '../pipeline/types.js';
import { resolveOptions } from '../trackers/options.js';
import { installContainerFilter, type ContainerFilter } from '../containers/filter.js';
import type { ContainerResolver } from '../containers/resolver.js';
import { containerFilterMode } from '../containers/selectors.js';
import type { OptionValues, TrackerDescriptor } from '../trackers/types.js';

export interface TrackerDeps {
  native: NativeBinding;
  clock: Clock;
  /** Where events go (usually Pipeline.push). */
  emit: Emit;
  /** Defaults to the shipped dist/bpf. */
  objectDir?: string;
  /** Reader poll interval: the longest an event waits in the ring buffer. */
  pollMs?: number;
  /** Needed for container filters (--container, --host-only, --containers-only). */
  containers?: ContainerResolver;
}

export interface TrackerStats {
  /** Records decoded into events. */
  events: number;
  /** Records that could not be decoded (too short, bad data). */
  decodeErrors: number;
  /** Records the kernel ring buffer could not take (it was full). */
  lostKernel: number;
  /** Records dropped between the reader thread and JavaScript (JavaScript fell behind). */
  lostQueue: number;
}

/** Timings of the start, for the benchmark. */
export interface StartTimings {
  openMs: number;
  loadMs: number;
  attachMs: number;
}

export class TrackerInstance {
  private events = 0;
  private decodeErrors = 0;
  private finalStats?: TrackerStats;
  private stopping?: Promise<TrackerStats>;

  private constructor(
    readonly id: number,
    readonly descriptor: TrackerDescriptor,
    readonly options: OptionValues,
    readonly timings: StartTimings,
    private readonly obj: BpfObject,
    private readonly decoder: Decoder | undefined,
    private readonly deps: TrackerDeps,
  ) {
    const ts = decoder?.fields.find((f) => f.name === 'ts_ns' && f.size === 8);
    this.tsOffset = ts ? ts.offset : -1;
  }

  /** Offset of the monotonic timestamp in a record; -1: the event has none, use arrival time. */
  private readonly tsOffset: number;

  get name(): string {
    return this.descriptor.name;
  }

  /** open → set globals → load → attach → read. Anything failing leaves nothing behind. */
  static start(deps: TrackerDeps, d: TrackerDescriptor, id: number, input: OptionValues = {}): TrackerInstance {
    const { values, globals } = resolveOptions(d, input, process.pid);
    const t0 = performance.now();
    const obj = BpfObject.open(deps.native, join(deps.objectDir ?? objectDir, d.object), d.name);
    let filter: ContainerFilter | undefined;
    try {
      const decoder = d.event ? compileDecoder(obj.btf, d.event.struct) : undefined;
      obj.setGlobals(globals);
      if (d.programs) {
        const wanted = new Set(d.programs(values));
        for (const p of obj.programs()) obj.setAutoload(p.name, wanted.has(p.name));
      }
      const filtering = containerFilterMode(d.name, values) !== 0;
      if (obj.programs().some((p) => p.name === CONTAINER_FILTER_PROGRAM)) obj.setAutoload(CONTAINER_FILTER_PROGRAM, filtering);
      else if (filtering) throw new EunomiaError(ErrorCodes.OPTION, `tracker ${d.name}: its object has no container filter (build it with bpf/include/eunomia.bpf.h)`);
      if (d.ringBytes && d.event) obj.setMaxEntries(d.event.map, d.ringBytes);
      // The common header defines a 4 MiB ring; a tracker that never streams needs one page.
      if (!d.event && obj.hasMap('events')) obj.setMaxEntries('events', 4096);
      const t1 = performance.now();
      obj.load();
      const t2 = performance.now();
      filter = installContainerFilter(obj, d.name, values, deps.containers);
      obj.attachAll();
      const t3 = performance.now();
      const inst = new TrackerInstance(id, d, values, { openMs: t1 - t0, loadMs: t2 - t1, attachMs: t3 - t2 }, obj, decoder, deps);
      inst.filter = filter;
      if (d.event) inst.reader = obj.openReader(d.event.map, (buf, count) => inst.onBatch(buf, count), { pollMs: deps.pollMs });
      if (d.interval) {
        const spec = d.interval.mapFor ? { ...d.interval, map: d.interval.mapFor(values) } : d.interval;
        const agg = new IntervalReader(obj, spec);
        inst.interval = agg;
        inst.timer = setInterval(() => inst.report(agg), Number(values.interval) * 1000);
      }
      return inst;
    } catch (e) {
      filter?.close();
      obj.closeNow();
      throw e;
    }
  }

  private reader?: BpfReader;
  private filter?: ContainerFilter;

  /** Container selectors that matched nothing yet (a container started later still will). */
  get unmatchedContainers(): string[] {
    return this.filter?.unmatched ?? [];
  }
  private interval?: IntervalReader;
  private timer?: NodeJS.Timeout;
  private reportErrors = 0;

  /** Emits one interval's rows; a failing read is counted, and the next interval tries again. */
  private report(agg: IntervalReader): void {
    const { deps } = this;
    let rows: Record<string, unknown>[];
    try {
      rows = agg.report(this.options);
      if (this.descriptor.format) for (const r of rows) this.descriptor.format(r);
    } catch {
      this.reportErrors++;
      return;
    }
    const time = deps.clock.nowMs();
    for (const data of rows) {
      this.events++;
      deps.emit({ tracker: this.descriptor.name, instance: this.id, time, data });
    }
  }

  /** Hot path: one call per batch from the reader thread. */
  private onBatch(buf: Buffer, count: number): void {
    const { descriptor, id } = this;
    const decoder = this.decoder!;
    const format = descriptor.format;
    const size = decoder.size;
    const { emit, clock } = this.deps;
    let off = 0;
    for (let i = 0; i < count; i++) {
      const len = buf.readUInt32LE(off);
      const rec = (off + 8) >>> 0;
      off = (rec + ((len + 7) & ~7)) >>> 0;
      if (len < size) {
        this.decodeErrors++;
        continue;
      }
      let data: Record<string, unknown>;
      try {
        data = decoder.decode(buf, rec);
        if (format) format(data);
      } catch {
        this.decodeErrors++;
        continue;
      }
      this.events++;
      // Two 32-bit reads: a BigInt per event would be allocated only to become a Number.
      const ts = this.tsOffset;
      const time = ts >= 0 ? clock.wallMs(buf.readUInt32LE(rec + ts) + buf.readUInt32LE(rec + ts + 4) * 4294967296) : clock.nowMs();
      emit({ tracker: descriptor.name, instance: id, time, data });
    }
  }

  stats(): TrackerStats {
    if (this.finalStats) return this.finalStats;
    const r = this.reader?.stats();
    return {
      events: this.events,
      decodeErrors: this.decodeErrors + this.reportErrors,
      lostKernel: (this.obj.kernelLost() ?? 0) + (r?.lostKernel ?? 0),
      lostQueue: r?.lostQueue ?? 0,
    };
  }

  /**
   * Detaches, then drains the reader, then reads the drop counter: in that order every
   * record the programs produced is either delivered or counted as lost.
   */
  stop(): Promise<TrackerStats> {
    this.stopping ??= (async () => {
      clearInterval(this.timer);
      this.filter?.close();
      await this.obj.detachAll();
      const r = await this.reader?.close();
      // The last, partial interval is reported too: stopping loses nothing.
      if (this.interval) this.report(this.interval);
      const lostKernel = this.obj.kernelLost() ?? 0;
      await this.obj.close();
      this.finalStats = {
        events: this.events,
        decodeErrors: this.decodeErrors + this.reportErrors,
        lostKernel: lostKernel + (r?.lostKernel ?? 0),
        lostQueue: r?.lostQueue ?? 0,
      };
      return this.finalStats;
    })();
    return this.stopping;
  }

  /** Exit path: tears down synchronously (the kernel would also do it when the fd closes). */
  stopNow(): void {
    clearInterval(this.timer);
    this.filter?.close();
    this.obj.closeNow();
  }
}

export function notRunning(id: number): EunomiaError {
  return new EunomiaError(ErrorCodes.STATE, `no tracker instance with id ${id}`);
}
