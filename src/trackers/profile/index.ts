/**
 * profile: on-CPU stack sampling (bpf/profile). A perf event per CPU samples at -F Hz; the kernel
 * counts each unique (process, user stack, kernel stack), double-buffered; every interval the
 * samples' stacks are named (src/profiling/stacks.ts) and come up as one row per stack. At the
 * end of a run the rows become a flame graph, folded stacks, pprof or speedscope (--svg …).
 */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { leafFirstStackColumn } from '../common.js';
import type { IntervalMaps, IntervalSpec, OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { PROFILE_FILES, profileOutput } from '../../profiling/output.js';
import { stackRows, type StackRow } from '../../profiling/stacks.js';
import type { Counts0Entry } from './event.gen.js';
import { profileMetrics } from './metrics.js';

const PERF_TYPE_SOFTWARE = 1;
const PERF_COUNT_SW_CPU_CLOCK = 0;
const DEFAULT_HZ = 49;

/** Samples go to one set of maps while user space reads the other: flip, then read the one left. */
function swap(maps: Omit<IntervalMaps, 'current'>): string {
  const sel = maps.map('buffer');
  const key = Buffer.alloc(4);
  const was = sel.lookup(key)?.readUInt32LE(0) ?? 0;
  const value = Buffer.alloc(4);
  value.writeUInt32LE(was ? 0 : 1);
  sel.update(key, value);
  // A sample that read the old choice may still be counting (a program run is a few µs).
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
  return `counts${was}`;
}

const interval: IntervalSpec<StackRow, Counts0Entry> = {
  map: 'counts0',
  swap,
  seconds: 5,
  top: 0,
  sortBy: 'count',
  // counts0 with stacks0, counts1 with stacks1.
  rows: (entries, _options, maps) => stackRows(entries, maps, maps.current === 'counts1' ? 'stacks1' : 'stacks0'),
};

export const profileTracker: TrackerDescriptor = {
  name: 'profile',
  summary: 'on-CPU stack sampling: the stacks processes run, named, as folded stacks, a flame graph, pprof or speedscope',
  object: 'profile.bpf.o',
  metrics: profileMetrics,
  interval,
  perfEvent: (o) => ({ type: PERF_TYPE_SOFTWARE, config: PERF_COUNT_SW_CPU_CLOCK, frequency: Number(o.frequency ?? DEFAULT_HZ) }),
  examples: [
    'sudo eunomia run profile -T 10 --svg out.svg            # a flame graph of 10 s of every CPU',
    'sudo eunomia run profile --container web -F 99 -T 30 --pprof web.pb.gz',
  ],
  options: [
    { name: 'frequency', flag: 'frequency', short: 'F', type: 'uint', arg: 'HZ', default: DEFAULT_HZ, max: 10000, description: 'samples per second on each CPU (49 by default: off the beat of 50/100 Hz timers)' },
    { name: 'userOnly', flag: 'user-only', type: 'bool', default: false, description: 'user stacks only (no kernel frames)', global: 'kernel_stacks', toGlobal: (v) => !v },
    { name: 'kernelOnly', flag: 'kernel-only', type: 'bool', default: false, description: 'kernel stacks only (no user frames)', global: 'user_stacks', toGlobal: (v) => !v },
    { name: 'includeIdle', flag: 'include-idle', type: 'bool', default: false, description: 'count the idle task too (pid 0)', global: 'include_idle' },
    ...PROFILE_FILES.map((f) => ({ name: f.option, flag: f.option, type: 'string' as const, arg: 'FILE', description: `at the end, write ${f.what} to FILE` })),
  ],
  validate(o: OptionValues) {
    if (o.userOnly && o.kernelOnly) throw new EunomiaError(ErrorCodes.OPTION, 'tracker profile: --user-only and --kernel-only exclude each other — give one, or neither for both stacks');
    if (o.frequency !== undefined && Number(o.frequency) < 1) throw new EunomiaError(ErrorCodes.OPTION, 'tracker profile: -F must be at least 1 sample per second');
    const file = PROFILE_FILES.find((f) => o[f.option] !== undefined);
    if (file && Number(o.top ?? 0) > 0) throw new EunomiaError(ErrorCodes.OPTION, `tracker profile: --${file.option} needs every stack, and -n ${o.top} would keep only the top rows of each report — leave -n out`);
  },
  outputs: (o) => profileOutput(o),
  plain: (d) => `${d.count} ${d.comm}(${d.pid}) ${d.stack.join(';')}`,
  columns: [
    { key: 'container.name', header: 'CONTAINER', width: 12 },
    { key: 'pid', header: 'PID', width: 7 },
    { key: 'comm', header: 'COMM', width: 16 },
    { key: 'count', header: 'SAMPLES', width: 8 },
    { key: 'user', header: 'USER', width: 10 },
    leafFirstStackColumn,
  ],
} satisfies TrackerDescriptor<StackRow, Counts0Entry>;
