/** funclatency: the latency of user functions (uprobe + uretprobe) as log2 histograms per function and cgroup, per interval. */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { histogramText, type Bucket } from '../histogram.js';
import type { OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { kernelFunctionError } from './kernel.js';
import { funclatencyMetrics } from './metrics.js';
import { funcLabel, parseFuncs, uprobeTargets } from './targets.js';
import type { HistsEntry } from './event.gen.js';

const UNITS = { ns: { div: 1, name: 'nsecs' }, us: { div: 1e3, name: 'usecs' }, ms: { div: 1e6, name: 'msecs' } } as const;
export type LatencyUnit = keyof typeof UNITS;

/** A log2 slot of latencies in ns: [low, high] and the calls in it, with their summed latency. */
export type LatencyBucket = Bucket & { total_ns: number };

/** A row: one function's calls in one cgroup over the interval. */
export type FunclatencyData = {
  /** BINARY as given, and the function. */
  binary: string;
  function: string;
  cgroup_id: number;
  /** How plain and table output show latencies (--unit); the fields stay in ns. */
  unit: LatencyUnit;
  count: number;
  total_ns: number;
  avg_ns: number;
  /** log2 slots in ns, from slot 0 up to the last non-empty one. */
  buckets: LatencyBucket[];
  too_deep: number;
  mismatched: number;
};

function rows(entries: HistsEntry[], options: OptionValues): FunclatencyData[] {
  const funcs = parseFuncs(options.func);
  const unit = (options.unit ?? 'us') as LatencyUnit;
  return entries.map(({ key, value }) => {
    const f = funcs[Number(key.func)];
    let last = value.slots.length - 1;
    while (last >= 0 && !value.slots[last]) last--;
    const buckets: LatencyBucket[] = [];
    let count = 0;
    let total = 0;
    for (let i = 0; i <= last; i++) {
      const n = Number(value.slots[i]);
      const ns = Number(value.slot_ns[i]);
      count += n;
      total += ns;
      buckets.push({ low: i === 0 ? 0 : 2 ** i, high: 2 ** (i + 1) - 1, count: n, total_ns: ns });
    }
    return {
      binary: f?.binary ?? '',
      function: f?.func ?? `#${String(key.func)}`,
      cgroup_id: Number(key.cgroup_id),
      unit,
      count,
      total_ns: total,
      avg_ns: count ? Math.round(total / count) : 0,
      buckets,
      too_deep: Number(value.too_deep),
      mismatched: Number(value.mismatched),
    };
  });
}

/** ns in the row's unit, to 3 decimals. */
const inUnit = (ns: number, unit: LatencyUnit): number => Math.round((ns / UNITS[unit].div) * 1000) / 1000;

/** libbpf-tools' layout: which function (and container), its histogram in the unit, count and average. */
function plain(d: FunclatencyData): string {
  const unit = UNITS[d.unit] ? d.unit : 'us';
  const c = (d as { container?: { name?: string; id?: string } }).container;
  const where = c && c.id !== 'host' ? ` in container ${c.name || c.id}` : '';
  // From the first non-empty slot: below it are only empty lines (0 -> 0.001 ms …).
  const first = d.buckets.findIndex((b) => b.count > 0);
  const shown = d.buckets.slice(Math.max(first, 0)).map((b) => ({ low: inUnit(b.low, unit), high: inUnit(b.high, unit), count: b.count }));
  const lines = [`${d.binary}:${d.function}${where}`, histogramText(shown, UNITS[unit].name)];
  let tail = `count ${d.count}, avg ${inUnit(d.avg_ns, unit)} ${UNITS[unit].name}`;
  if (d.too_deep || d.mismatched) tail += `; not measured: ${d.too_deep} too deep, ${d.mismatched} mismatched returns`;
  lines.push(tail);
  return lines.join('\n');
}

const inRowUnit = (v: unknown, ev: { data: Record<string, unknown> }): string => (typeof v === 'number' ? String(inUnit(v, (UNITS[ev.data.unit as LatencyUnit] ? ev.data.unit : 'us') as LatencyUnit)) : '');

export const funclatencyTracker: TrackerDescriptor = {
  name: 'funclatency',
  summary: 'latency of user functions (BINARY:FUNCTION) as log2 histograms per function and container, per interval',
  metrics: funclatencyMetrics,
  object: 'funclatency.bpf.o',
  interval: { map: 'hists', seconds: 3, top: 10, sortBy: 'count', rows },
  programs: () => ['fl_entry', 'fl_return'],
  uprobes: uprobeTargets,
  startedByRules: false,
  examples: [
    'sudo eunomia run funclatency --func /usr/bin/python3:PyEval_EvalCode -i 5',
    'sudo eunomia run funclatency --func libc:malloc --func libc:free -p 1234 --unit ns',
    'sudo eunomia run funclatency --container 3f2a9c1b7d4e --func /usr/sbin/nginx:ngx_http_process_request',
  ],
  options: [
    {
      name: 'func',
      flag: 'func',
      type: 'string',
      arg: 'BINARY:FUNCTION',
      repeatable: true,
      description: 'a function to time: a path, library (libc) or program name, a colon and the symbol; repeatable',
    },
    { name: 'unit', flag: 'unit', type: 'string', arg: 'ns|us|ms', default: 'us', description: 'unit the histograms and averages are printed in (measured in ns)' },
  ],
  validate(o: OptionValues) {
    if (!Object.hasOwn(UNITS, String(o.unit))) throw new EunomiaError(ErrorCodes.OPTION, `tracker funclatency: --unit ${String(o.unit)}: expected ns, us or ms`);
    const kernel = parseFuncs(o.func).find((f) => f.binary === undefined);
    if (kernel) throw kernelFunctionError(funcLabel(kernel));
  },
  plain,
  columns: [
    { key: 'container.name', header: 'CONTAINER', width: 12 },
    { key: 'binary', header: 'BINARY', width: 16 },
    { key: 'function', header: 'FUNCTION', width: 20 },
    { key: 'count', header: 'COUNT', width: 8 },
    { key: 'avg_ns', header: 'AVG', width: 10, format: inRowUnit },
    { key: 'unit', header: 'UNIT', width: 4 },
    { key: 'too_deep', header: 'TOO_DEEP', width: 8 },
    { key: 'mismatched', header: 'MISMATCHED', width: 10 },
    { key: 'buckets', header: 'BUCKETS (ns)', format: (v) => (Array.isArray(v) ? v.filter((b: Bucket) => b.count).map((b: Bucket) => `${b.low}-${b.high}:${b.count}`).join(' ') : '') },
  ],
} satisfies TrackerDescriptor<FunclatencyData, HistsEntry>;
