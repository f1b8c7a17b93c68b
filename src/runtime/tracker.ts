/** A running tracker instance: its object loaded and attached, its events decoded into the pipeline. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { compileDecoder, type Decoder } from '../core/btf/index.js';
import { IntervalReader } from './interval.js';
import { BpfObject, CONTAINER_FILTER_PROGRAM, type BpfReader } from '../core/bpf-object.js';
import type { Clock } from '../core/clock.js';
import { EunomiaError, ErrorCodes, isEunomiaError } from '../core/errors.js';
import { hostMntGlobal } from '../core/kernel.js';
import { attachKind } from '../core/sections.js';
import type { NativeBinding } from '../core/native.js';
import { objectDir } from '../core/paths.js';
import type { Emit } from './events.js';
import { resolveOptions } from './options.js';
import type { ContainerScope, ScopeHandle, ScopeInstaller } from './scope.js';
import { attachFailure, choosePrograms, failedProgram, inGroups, type RuledOut } from './programs.js';
import type { ContainerLookup, OptionValues, SkippedProgram, StreamSpec, TrackerDescriptor, UprobeTarget } from './types.js';
import type { MapMemory } from '../core/map-memory.js';

export interface TrackerDeps {
  native: NativeBinding;
  clock: Clock;
  /** Where events go (usually Pipeline.push). */
  emit: Emit;
  /** Defaults to the shipped dist/bpf. */
  objectDir?: string;
  /** Reader poll interval: the longest an event waits in the ring buffer. */
  pollMs?: number;
  /** Needed for container scopes (--container, --host-only, --containers-only): src/containers' containerScopes. */
  scope?: ScopeInstaller;
  /** The agent's containers by name or id, for uprobes hooks (a container's binaries are in its root). */
  containers?: ContainerLookup;
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
  /**
   * Not events: operations an in-kernel aggregation map could not count, having no room
   * for a new entry (full, or no memory at hand): a report's counts fall that much short.
   */
  mapInsertFailures: number;
}

/** Kernel run counters of one of the instance's eBPF programs (time needs BPF stats on). */
export interface ProgramStats {
  program: string;
  runCount: number;
  runTimeNs: number;
}

/** Timings of the start, for the benchmark. */
export interface StartTimings {
  openMs: number;
  loadMs: number;
  attachMs: number;
}

/** One event stream of a running instance: its reader and decoder. */
interface Stream {
  readonly map: string;
  readonly decoder: Decoder;
  /** Offset of the monotonic timestamp in a record; -1: the event has none, use arrival time. */
  readonly tsOffset: number;
  reader?: BpfReader;
}

function openStream(obj: BpfObject, s: StreamSpec): Stream {
  const decoder = s.decoder ?? compileDecoder(obj.btf, s.struct);
  const ts = decoder.fields.find((f) => f.name === 'ts_ns' && f.size === 8);
  return { map: s.map, decoder, tsOffset: ts ? ts.offset : -1 };
}

/** Attaches a tracker's uprobes (TrackerDescriptor.uprobes); a failure names the binary and the function. */
function attachUprobes(obj: BpfObject, tracker: string, targets: readonly UprobeTarget[]): void {
  for (const { program, spec, label } of targets) {
    const where = label ?? `${spec.binary}:${spec.func ?? `0x${(spec.offset ?? 0).toString(16)}`}`;
    try {
      obj.attachUprobe(program, spec);
    } catch (e) {
      if (!isEunomiaError(e)) throw e;
      // libbpf answers ENOENT both for a file that is not there and for a symbol the file lacks.
      const reason =
        e.errno === 2 && spec.func !== undefined && existsSync(spec.binary)
          ? `${spec.binary} has no function "${spec.func}" in its symbol tables (misspelt, inlined, or static in a stripped binary)`
          : e.cause instanceof Error
            ? e.cause.message
            : e.message;
      throw new EunomiaError(ErrorCodes.ATTACH, `tracker ${tracker}: attach ${where}: ${reason}`, { cause: e, ...(e.log === undefined ? {} : { log: e.log }), ...(e.errno === undefined ? {} : { errno: e.errno }) });
    }
  }
}

/** After a failed attempt: rules out the fallback program that failed, or throws the error. */
function retryOrThrow(d: TrackerDescriptor, e: unknown, ruledOut: RuledOut): void {
  const failed = failedProgram(e, inGroups(d));
  if (!failed || ruledOut.has(failed.program)) throw e;
  ruledOut.set(failed.program, failed.reason);
}

/** A tracker's object opened and set up, not loaded yet. */
interface Prepared {
  obj: BpfObject;
  streams: Stream[];
  values: OptionValues;
  scope: ContainerScope;
  uprobes: UprobeTarget[];
  /** Programs of the object it leaves out, and why. */
  skipped: SkippedProgram[];
  openMs: number;
  loadStart: number;
}

/**
 * Programs built with eunomia.bpf.h wake the reader once this much is waiting (else it drains on
 * its poll): 256 KiB, or a quarter of a smaller ring, which would otherwise never reach it.
 */
function wakeupGlobal(obj: BpfObject, d: TrackerDescriptor): Record<string, number> {
  if (!d.ringBytes || !obj.globals().some((g) => g.name === 'eunomia_wakeup_bytes')) return {};
  return { eunomia_wakeup_bytes: Math.min(256 * 1024, d.ringBytes / 4) };
}

/** open → set globals → choose programs → size maps. Closes the object if anything fails. */
function prepare(deps: TrackerDeps, d: TrackerDescriptor, input: OptionValues, ruledOut: RuledOut): Prepared {
  const { values, globals, scope } = resolveOptions(d, input, process.pid);
  if (scope.mode && !deps.scope) throw new EunomiaError(ErrorCodes.OPTION, `tracker ${d.name}: container filters need container attribution, which --no-containers turned off`);
  // Before the object is opened: a binary that is not there fails before any work.
  const uprobes = d.uprobes?.(values, deps.containers) ?? [];
  const t0 = performance.now();
  const obj = BpfObject.open(deps.native, d.objectBytes ?? join(deps.objectDir ?? objectDir, d.object), d.name);
  try {
    const specs = d.streams ?? (d.event ? [d.event] : []);
    const streams = specs.map((s) => openStream(obj, s));
    obj.setGlobals({ ...hostMntGlobal(obj.globals()), ...wakeupGlobal(obj, d), ...globals });
    const skipped = choosePrograms(obj, d, values, ruledOut);
    const filtering = scope.mode !== 0;
    if (obj.programs().some((p) => p.name === CONTAINER_FILTER_PROGRAM)) obj.setAutoload(CONTAINER_FILTER_PROGRAM, filtering);
    else if (filtering) throw new EunomiaError(ErrorCodes.OPTION, `tracker ${d.name}: its object has no container filter (build it with bpf/include/eunomia.bpf.h)`);
    if (d.ringBytes && d.event) obj.setMaxEntries(d.event.map, d.ringBytes);
    // The common header defines a 4 MiB ring; a tracker that does not read it needs one page.
    if (obj.hasMap('events') && !specs.some((s) => s.map === 'events')) obj.setMaxEntries('events', 4096);
    const loadStart = performance.now();
    return { obj, streams, values, scope, uprobes, skipped, openMs: loadStart - t0, loadStart };
  } catch (e) {
    obj.closeNow();
    throw e;
  }
}

export class TrackerInstance {
  private events = 0;
  private decodeErrors = 0;
  private finalStats?: TrackerStats;
  private stopping?: Promise<TrackerStats>;
  /** Counts of the instances this one replaced (TrackerManager.replace): the id's history. */
  private inherited?: TrackerStats;

  private constructor(
    readonly id: number,
    readonly descriptor: TrackerDescriptor,
    readonly options: OptionValues,
    readonly timings: StartTimings,
    private readonly obj: BpfObject,
    private readonly streams: Stream[],
    private readonly deps: TrackerDeps,
    /** Programs of its object it did not load, and why (not on this kernel, an alternative ran). */
    readonly skipped: readonly SkippedProgram[] = [],
  ) {}

  get name(): string {
    return this.descriptor.name;
  }

  /** Kernel memory of its maps (rings, tables, the container filter's); none once stopped. */
  mapMemory(): MapMemory {
    return this.obj.mapMemory();
  }

  /**
   * open → set globals → load → attach → read. Anything failing leaves nothing behind; a
   * program of a fallback group the kernel refuses is ruled out and the start tried again.
   */
  static start(deps: TrackerDeps, d: TrackerDescriptor, id: number, input: OptionValues = {}): TrackerInstance {
    const ruledOut: RuledOut = new Map();
    for (;;) {
      const p = prepare(deps, d, input, ruledOut);
      try {
        p.obj.load();
        return TrackerInstance.attach(deps, d, id, p);
      } catch (e) {
        p.obj.closeNow();
        retryOrThrow(d, e, ruledOut);
      }
    }
  }

  /**
   * start(), with the load (the verifier's work) on a worker thread: several trackers load in
   * parallel. With `gate`, it attaches only once the gate resolves (what its events need is ready).
   */
  static async startAsync(deps: TrackerDeps, d: TrackerDescriptor, id: number, input: OptionValues = {}, gate?: Promise<unknown>): Promise<TrackerInstance> {
    const ruledOut: RuledOut = new Map();
    for (;;) {
      const p = prepare(deps, d, input, ruledOut);
      try {
        await Promise.all([p.obj.loadAsync(), gate]);
        return TrackerInstance.attach(deps, d, id, p);
      } catch (e) {
        p.obj.closeNow();
        retryOrThrow(d, e, ruledOut);
      }
    }
  }

  /** After load: the container filter, attach, then the readers. */
  private static attach(deps: TrackerDeps, d: TrackerDescriptor, id: number, p: Prepared): TrackerInstance {
    const { obj, values, scope } = p;
    const t2 = performance.now();
    let filter: ScopeHandle | undefined;
    try {
      if (scope.mode) filter = deps.scope!(obj, d.name, scope);
      for (const prog of obj.programs()) {
        if (!prog.autoload || attachKind(prog.section) !== 'auto') continue;
        try {
          obj.attach(prog.name);
        } catch (e) {
          throw attachFailure(e, prog.name);
        }
      }
      const perf = typeof d.perfEvent === 'function' ? d.perfEvent(values) : d.perfEvent;
      if (perf) for (const prog of obj.programs()) if (prog.autoload && prog.section === 'perf_event') obj.attachPerfEvent(prog.name, perf);
      attachUprobes(obj, d.name, p.uprobes);
      const t3 = performance.now();
      const inst = new TrackerInstance(id, d, values, { openMs: p.openMs, loadMs: t2 - p.loadStart, attachMs: t3 - t2 }, obj, p.streams, deps, p.skipped);
      inst.filter = filter;
      for (const s of p.streams) s.reader = obj.openReader(s.map, (buf, count) => inst.onBatch(s, buf, count), { pollMs: deps.pollMs ?? d.pollMs });
      if (d.interval) {
        const spec = d.interval.mapFor ? { ...d.interval, map: d.interval.mapFor(values) } : d.interval;
        const agg = new IntervalReader(obj, spec);
        inst.interval = agg;
        inst.timer = setInterval(() => inst.report(agg), Number(values.interval) * 1000);
      }
      // The decoders are built: the parsed BTF is not needed while it runs.
      obj.releaseBtf();
      return inst;
    } catch (e) {
      filter?.close();
      throw e;
    }
  }

  private filter?: ScopeHandle;

  /** Container selectors that matched nothing yet (a container started later still will). */
  get unmatchedContainers(): string[] {
    return this.filter?.unmatched ?? [];
  }

  /** Selected containers that were running when selected (full ids): their start was not seen. */
  get containersJoinedRunning(): string[] {
    return this.filter?.joinedRunning ?? [];
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

  /**
   * The rows of its in-kernel map now, formatted, without emitting them or clearing the map:
   * for trackers whose reports keep their counts (a seccomp recording). Once stopped, the map
   * is gone: the last rows it reported are what the events carried.
   */
  snapshot(): Record<string, unknown>[] {
    if (!this.interval || !this.descriptor.interval?.keep) {
      throw new EunomiaError(ErrorCodes.STATE, `instance ${this.id} (${this.name}) keeps no counts to read: only trackers whose reports accumulate (seccomp) have a snapshot`);
    }
    if (this.stopping) throw new EunomiaError(ErrorCodes.STATE, `instance ${this.id} (${this.name}) is stopping`);
    const rows = this.interval.report({ ...this.options, top: 0 });
    if (this.descriptor.format) for (const r of rows) this.descriptor.format(r);
    return rows;
  }

  /** Hot path: one call per batch from a reader thread. */
  private onBatch(stream: Stream, buf: Buffer, count: number): void {
    const { descriptor, id } = this;
    const { decoder, tsOffset: ts } = stream;
    const format = descriptor.format;
    // A struct may allow records cut short (an exit is the head of the exec struct): the decoder says how short.
    const size = decoder.minSize ?? decoder.size;
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
        data = decoder.decode(buf, rec, len);
        if (format) format(data);
      } catch {
        this.decodeErrors++;
        continue;
      }
      this.events++;
      // Two 32-bit reads: a BigInt per event would be allocated only to become a Number.
      const time = ts >= 0 ? clock.wallMs(buf.readUInt32LE(rec + ts) + buf.readUInt32LE(rec + ts + 4) * 4294967296) : clock.nowMs();
      emit({ tracker: descriptor.name, instance: id, time, data });
    }
  }

  /** Its loaded programs' run counts and time, as the kernel counts them (the last reading once stopped). */
  programStats(): ProgramStats[] {
    if (this.finalPrograms) return this.finalPrograms;
    const out: ProgramStats[] = [];
    for (const p of this.obj.programs()) {
      if (!p.autoload) continue;
      const info = this.obj.programInfo(p.name);
      if (info) out.push({ program: p.name, runCount: info.runCount, runTimeNs: info.runTimeNs });
    }
    return out;
  }

  private finalPrograms?: ProgramStats[];

  stats(): TrackerStats {
    if (this.finalStats) return this.finalStats;
    return this.counts(this.streams.map((s) => s.reader?.stats()));
  }

  /** The one sum of what was seen and lost: the readers' counts (live or final), the kernel's, the maps'. */
  private counts(readers: ({ lostKernel: number; lostQueue: number } | undefined)[]): TrackerStats {
    let lostKernel = this.obj.kernelLost() ?? 0;
    let lostQueue = 0;
    for (const r of readers) {
      lostKernel += r?.lostKernel ?? 0;
      lostQueue += r?.lostQueue ?? 0;
    }
    const mapInsertFailures = this.obj.mapInsertFailures() ?? 0;
    return this.withInherited({ events: this.events, decodeErrors: this.decodeErrors + this.reportErrors, lostKernel, lostQueue, mapInsertFailures });
  }

  /** @internal TrackerManager.replace: this instance continues `previous` under the same id. */
  inherit(previous: TrackerStats): void {
    this.inherited = previous;
    if (this.finalStats) this.finalStats = this.withInherited(this.finalStats);
  }

  private withInherited(s: TrackerStats): TrackerStats {
    const p = this.inherited;
    if (!p) return s;
    return {
      events: s.events + p.events,
      decodeErrors: s.decodeErrors + p.decodeErrors,
      lostKernel: s.lostKernel + p.lostKernel,
      lostQueue: s.lostQueue + p.lostQueue,
      mapInsertFailures: s.mapInsertFailures + p.mapInsertFailures,
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
      const readers = [];
      for (const s of this.streams) readers.push(await s.reader?.close());
      // The last, partial interval is reported too: stopping loses nothing.
      if (this.interval) this.report(this.interval);
      this.finalStats = this.counts(readers);
      this.finalPrograms = this.programStats();
      await this.obj.close();
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
  return new EunomiaError(ErrorCodes.NOT_FOUND, `no tracker instance with id ${id}`);
}
