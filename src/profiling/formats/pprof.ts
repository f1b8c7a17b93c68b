/**
 * The pprof protobuf format (profile.proto: `go tool pprof`, Pyroscope, Parca, Grafana), gzipped
 * as pprof expects, encoded by DataDog's pprof-format package.
 *
 * Like a Go CPU profile: two sample types, `samples/count` and `cpu/nanoseconds` (the count
 * times the period, the default), period type `cpu/nanoseconds` with the period 1e9 / hz.
 * Each frame name is one Function (deduplicated by name); each (name, kernel or user) one
 * Location with one Line; kernel locations belong to one Mapping named `[kernel.kallsyms]`
 * (as perf_to_profile writes it), user locations to none (the names are already symbolized).
 * Samples are labelled `pid` (number), `comm` and `container` (strings) when the stack has them.
 * A stack is one sample (the same frames and labels twice are two, which pprof's tools add up).
 */
import { gzipSync } from 'node:zlib';
import { Function as PprofFunction, Label, Location, Mapping, Profile as PprofProfile, Sample, StringTable, ValueType } from 'pprof-format';
import { checkProfile, firstKernelFrame, frameName, framesOf, type Profile } from './types.js';

export interface PprofOptions {
  /** gzip the encoded profile (default true: what pprof's tools and HTTP endpoints exchange). */
  gzip?: boolean;
}

export const KERNEL_MAPPING = '[kernel.kallsyms]';

/** The nanoseconds one sample stands for at `hz`. */
export function samplePeriodNs(hz: number): number {
  return Math.max(1, Math.round(1e9 / hz));
}

/** The profile as a pprof-format Profile (not yet encoded). */
export function pprofProfile(profile: Profile): PprofProfile {
  checkProfile(profile);
  const strings = new StringTable();
  const str = (s: string): number => strings.dedup(s);
  const period = samplePeriodNs(profile.hz);

  const functions: PprofFunction[] = [];
  const functionIds = new Map<string, number>();
  const locations: Location[] = [];
  const userLocations = new Map<string, number>();
  const kernelLocations = new Map<string, number>();
  const kernelMappingId = 1;
  let kernelUsed = false;

  const locationId = (name: string, kernel: boolean): number => {
    const table = kernel ? kernelLocations : userLocations;
    let id = table.get(name);
    if (id !== undefined) return id;
    let fn = functionIds.get(name);
    if (fn === undefined) {
      fn = functions.length + 1;
      const n = str(name);
      functions.push(new PprofFunction({ id: fn, name: n, systemName: n }));
      functionIds.set(name, fn);
    }
    id = locations.length + 1;
    if (kernel) kernelUsed = true;
    locations.push(new Location({ id, line: [{ functionId: fn }], ...(kernel ? { mappingId: kernelMappingId } : {}) }));
    table.set(name, id);
    return id;
  };

  const pidKey = str('pid');
  const commKey = str('comm');
  const containerKey = str('container');
  const samples: Sample[] = [];
  // Stacks of one process share their labels (one array, encoded as often as it is used).
  const labelSets = new Map<string, Label[]>();
  for (const s of profile.stacks) {
    if (s.count === 0) continue;
    const frames = framesOf(s);
    const kernelFrom = firstKernelFrame(s, frames);
    const ids: number[] = new Array<number>(frames.length);
    // pprof lists a sample's locations leaf first.
    for (let i = frames.length - 1, j = 0; i >= 0; i--, j++) ids[j] = locationId(frameName(frames[i]!), i >= kernelFrom);
    const labelKey = JSON.stringify([s.pid, s.comm, s.container]);
    let labels = labelSets.get(labelKey);
    if (labels === undefined) {
      labels = [];
      if (s.pid !== undefined) labels.push(new Label({ key: pidKey, num: s.pid }));
      if (s.comm !== undefined) labels.push(new Label({ key: commKey, str: str(s.comm) }));
      if (s.container !== undefined) labels.push(new Label({ key: containerKey, str: str(s.container) }));
      labelSets.set(labelKey, labels);
    }
    samples.push(new Sample({ locationId: ids, value: [s.count, s.count * period], label: labels }));
  }

  const cpu = str('cpu');
  const nanoseconds = str('nanoseconds');
  const mapping = kernelUsed ? [new Mapping({ id: kernelMappingId, filename: str(KERNEL_MAPPING), hasFunctions: true })] : [];
  return new PprofProfile({
    sampleType: [new ValueType({ type: str('samples'), unit: str('count') }), new ValueType({ type: cpu, unit: nanoseconds })],
    sample: samples,
    mapping,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(profile.startedAt.getTime()) * 1_000_000n,
    durationNanos: BigInt(Math.round(profile.durationMs * 1e6)),
    periodType: new ValueType({ type: cpu, unit: nanoseconds }),
    period,
    comment: [str(`eunomia on-CPU profile, ${profile.hz} Hz`)],
    defaultSampleType: cpu,
  });
}

/** The profile encoded as pprof protobuf, gzipped unless `gzip: false`. */
export function renderPprof(profile: Profile, opts: PprofOptions = {}): Buffer {
  const bytes = pprofProfile(profile).encode();
  return opts.gzip === false ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) : gzipSync(bytes);
}
