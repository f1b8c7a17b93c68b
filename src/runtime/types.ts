/** The contract between a tracker and everything else: one eBPF object + this descriptor. */
import type { BpfMap, PerfEventSpec, UprobeSpec } from '../core/bpf-object.js';
import type { Decoder } from '../core/btf/index.js';
import type { Column } from './events.js';
import type { TrackerMetrics } from './metric-spec.js';

/** `global`: a value of the global variable's own BTF type, checked by the object when it is set. */
export type OptionType = 'uint' | 'bool' | 'string' | 'global';

export interface OptionSpec {
  /** Key in the options object, e.g. "minDuration". */
  name: string;
  /** CLI long flag without dashes, e.g. "min-duration". */
  flag: string;
  short?: string;
  type: OptionType;
  description: string;
  /** Placeholder shown in help, e.g. "MS". */
  arg?: string;
  default?: number | boolean | string;
  /** The `const volatile` global this option sets before load. */
  global?: string;
  /** Converts the option value to the global's value (e.g. ms → ns). */
  toGlobal?: (value: number | boolean | string) => unknown;
  /** Upper bound for uint options. */
  max?: number;
  /** A string option the CLI accepts several times; the values are joined with commas. */
  repeatable?: boolean;
}

export type OptionValues = Record<string, number | boolean | string | undefined>;

/** The maps of a tracker's loaded object, for an interval report that reads more than one. */
export interface IntervalMaps {
  map(name: string): BpfMap;
  /** The map this report read. */
  readonly current: string;
}

/** What a run writes when it ends, from every row the tracker reported (the profile's --svg FILE). */
export interface TrackerOutput {
  add(data: Record<string, unknown>): void;
  /** Writes the files: one line per file written, for the user. */
  finish(): Promise<string[]>;
}

/** What a tracker's uprobes hook may ask of the agent's containers: their files are in their roots. */
export interface ContainerLookup {
  /** The full ids of the running containers a selector (a name, an id or its prefix) picks. */
  idsOf(selector: string): string[];
}

/** One attachment of a program whose section names no target (`SEC("uprobe")`, `SEC("uretprobe")`). */
export interface UprobeTarget {
  program: string;
  /** Where: a binary (an absolute path) and a function or offset; `cookie` tells the attachments of one program apart. */
  spec: UprobeSpec;
  /** How the message of a failed attach names it, e.g. "/usr/bin/app:handle" (default: binary:function). */
  label?: string;
}

/** One interval's aggregated map entry, decoded from the map's BTF (per-CPU values summed). */
export interface MapEntry {
  key: unknown;
  value: unknown;
}

/** A tracker that aggregates in the kernel and reports every interval (like filetop). */
export interface IntervalSpec<E = Record<string, unknown>, M extends MapEntry = MapEntry> {
  /** The aggregation map (hash or array); read, and cleared, every interval. */
  map: string;
  /** The map to read for these options, when the options choose it (default: `map`). */
  mapFor?: (options: OptionValues) => string;
  /** Default seconds between reports (`-i`). */
  seconds: number;
  /** Default rows per report (`-n`); 0 = all. */
  top: number;
  /** Field to sort rows by, largest first (after `rows`). */
  sortBy?: string;
  /**
   * Turns the entries into rows (event data); default: key and value fields merged. `maps`: the
   * object's other maps (the profile's stack traces, which its count keys refer to).
   */
  rows?(entries: M[], options: OptionValues, maps: IntervalMaps): E[];
  /**
   * Just before each report's read: prepare it, and name the map to read this time — the profile
   * switches its programs to its other set of maps (a double buffer) and reads the one they left;
   * memleak notes which stacks its map holds before the read, to clear only those after it.
   */
  swap?(maps: Omit<IntervalMaps, 'current'>): string;
  /** Keep the counts across intervals (cumulative) instead of clearing them. */
  keep?: boolean;
}

/**
 * One event stream: a ring buffer or perf event array map, and how its records are decoded —
 * a struct of the object's BTF by name, or a ready decoder (e.g. a layout the BTF lacks).
 */
export type StreamSpec = { map: string; struct: string; decoder?: undefined } | { map: string; decoder: Decoder; struct?: undefined };

/**
 * `E`: the data of its events (and rows), `M`: the entries of its interval maps, both typed from
 * the object's BTF (src/trackers/<name>/event.gen.ts); untyped records by default (hot-loaded
 * programs). The callbacks are methods, so a typed descriptor is still a `TrackerDescriptor`:
 * a tracker checks its own with `satisfies TrackerDescriptor<ItsData>` and exports the plain
 * type, the one the registry, the runtime and the benches hand decoded records to.
 */
/** Alternative programs (TrackerDescriptor.fallbacks). */
export interface ProgramGroup {
  programs: readonly string[];
  /** The start goes on without any of them (their events are then missing: said in `skipped`). */
  optional?: boolean;
}

/** A program of the object that an instance did not load, and why. */
export interface SkippedProgram {
  program: string;
  reason: string;
}

export interface TrackerDescriptor<E = Record<string, unknown>, M extends MapEntry = MapEntry> {
  name: string;
  /** One line for `eunomia trackers`. */
  summary: string;
  /** File name of the compiled object in dist/bpf/ (with `objectBytes`: only a name for messages). */
  object: string;
  /** The object itself, in memory, instead of the file (hot-loaded programs). */
  objectBytes?: Buffer;
  /** The BTF struct of one event record and the ring buffer that carries it (streaming trackers). */
  event?: { struct: string; map: string };
  /** Several event streams, each decoded into events (instead of `event`). */
  streams?: StreamSpec[];
  /**
   * Whether the common options (pid, container scope, include-self) apply: they set globals of
   * bpf/include/eunomia.bpf.h, which every built-in object has (default true).
   */
  commonOptions?: boolean;
  /** Globals set before load, before the options (which may override them). */
  globals?: Record<string, unknown>;
  /** Perf events to attach programs of section "perf_event" to (their section names no attach point), or by options (a sampling frequency). */
  perfEvent?: PerfEventSpec | ((options: OptionValues) => PerfEventSpec);
  /**
   * User functions to attach programs of section "uprobe"/"uretprobe" to (those sections name no
   * target), for these options: a program may be attached many times, each with its own cookie.
   * Called before load, so a bad binary fails fast (throw EunomiaError E_OPTION naming it); the
   * attachments follow the others, in this order, and a function the binary lacks fails the
   * start with E_ATTACH naming the binary and the function.
   */
  uprobes?(options: OptionValues, containers?: ContainerLookup): UprobeTarget[];
  /** In-kernel aggregation reported every interval (aggregating trackers). Trackers have this, `event` or `streams`. */
  interval?: IntervalSpec<E, M>;
  /** Options of this tracker only; the common ones (pid filter, …) apply to all. */
  options: OptionSpec[];
  /** Columns for table and CSV output (JSON shows every field). */
  columns: Column[];
  /** Ring buffer size in bytes (power of two); default 4 MiB. */
  ringBytes?: number;
  /**
   * The longest a record waits in the ring before the reader drains it; default 10 ms. Each
   * drain wakes the agent's event loop: low-rate trackers take 50 (a burst still wakes the reader
   * once a quarter of the ring is used).
   */
  pollMs?: number;
  /**
   * Adds readable fields to a decoded event in place (the kernel sends raw values: a signal
   * number, address bytes, flag bits). Hot path: keep it cheap. A throw counts the record
   * as undecodable.
   */
  format?(data: E): void;
  /** Rejects option combinations this tracker cannot honour (throw EunomiaError E_OPTION). */
  validate?: (options: OptionValues) => void;
  /**
   * Which of the object's programs to load and attach for these options (default: all).
   * Programs left out are never loaded, so they cost nothing (e.g. a sys_exit program only
   * needed for latency).
   */
  programs?: (options: OptionValues) => string[];
  /**
   * Programs loaded and attached only where the kernel has their tracepoint (a syscall added
   * in a later kernel, or compiled out: modules, kexec); elsewhere they are left out.
   */
  optionalPrograms?: readonly string[];
  /**
   * Programs of which one is enough, each group in order of preference (fentry before its kprobe,
   * tp_btf before raw_tp before the tracepoint): the first of a group that loads and attaches
   * runs, the others are left out. A candidate the kernel refuses is skipped with its reason and
   * the next one tried; a group with none left fails the start, unless it is `optional`.
   */
  fallbacks?: readonly ProgramGroup[];
  /** Programs never loaded here, with the reason (shown with the instance's skipped programs). */
  unavailable?: Readonly<Record<string, string>>;
  /** What a run writes when it ends (files named by its options), or undefined: nothing. */
  outputs?(options: OptionValues): TrackerOutput | undefined;
  /** Plain-text rendering of one event instead of a table row (e.g. a histogram). */
  plain?(data: E): string;
  /** Prometheus metric families its events update (docs/metrics.md). */
  metrics?: TrackerMetrics;
  /**
   * The original Eunomia's families for the same events, under its names and labels (only with
   * `metrics.original_names`: docs/metrics.md). Its `update` is called after `metrics`' with the
   * same targets: its families are the last `families.length` of them (originalTargets).
   */
  originalMetrics?: TrackerMetrics;
  /** Command lines for `eunomia run <tracker> --help`, where the generic ones would not run (a required option). */
  examples?: readonly string[];
  /**
   * Whether an enabled rule that reads its events starts it, with default options (default
   * true). False for a tracker that needs options of its own (a profile to check against, a
   * target): its rules apply to the instances started by hand.
   */
  startedByRules?: boolean;
}
