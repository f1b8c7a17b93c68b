/** tcprtt: TCP smoothed round-trip times as log2 histograms per interval (tcp:tcp_probe). */
import { EunomiaError, ErrorCodes } from '../../core/errors.js';
import { histogramText, log2Buckets, type Bucket } from '../histogram.js';
import type { OptionValues, TrackerDescriptor } from '../../runtime/types.js';
import { addressText, addressWords } from './address.js';
import { tcprttMetrics } from './metrics.js';
import type { HistsEntry } from './event.gen.js';

/** A row: one interval's histogram, of one remote address or local port when grouped by it. */
export type TcprttData = { raddr?: string; lport?: number; unit: 'msecs' | 'usecs'; count: number | bigint; avg: number; buckets: Bucket[] };

function rows(entries: HistsEntry[], options: OptionValues): TcprttData[] {
  const ms = options.ms === true;
  return entries.map(({ key, value }) => {
    const avg = value.count ? Number(value.total_us) / Number(value.count) / (ms ? 1000 : 1) : 0;
    return {
      ...(options.byRaddr ? { raddr: addressText(key.family, key.raddr_raw) } : {}),
      ...(options.byLport ? { lport: key.lport } : {}),
      unit: ms ? 'msecs' : 'usecs',
      count: value.count,
      avg: Math.round(avg * 100) / 100,
      buckets: log2Buckets(value.slots),
    };
  });
}

/** libbpf-tools' layout: what the histogram is for, the histogram, its average. */
function plain(d: TcprttData): string {
  const lines: string[] = [];
  if (d.raddr !== undefined) lines.push(`Remote Address: ${String(d.raddr)}`);
  if (d.lport !== undefined) lines.push(`Local Port: ${String(d.lport)}`);
  lines.push(histogramText(d.buckets, String(d.unit)));
  lines.push(`count ${String(d.count)}, avg ${String(d.avg)} ${String(d.unit)}`);
  return lines.join('\n');
}

const port = (name: string, flag: string, description: string, global: string) => ({ name, flag, type: 'uint' as const, arg: 'PORT', description, global, max: 65535 });
const addr = (name: string, flag: string, description: string, global: string) => ({ name, flag, type: 'string' as const, arg: 'ADDR', description, global, toGlobal: addressWords });

export const tcprttTracker: TrackerDescriptor = {
  name: 'tcprtt',
  summary: 'TCP round-trip time (smoothed RTT) histograms per interval, by remote address or local port',
  metrics: tcprttMetrics,
  object: 'tcprtt.bpf.o',
  interval: { map: 'hists', seconds: 3, top: 10, sortBy: 'count', rows },
  validate: (o) => {
    // Samples are taken while a packet is received, in whichever task runs then: the
    // socket's owner is unknown there. A pid filter would silently keep the wrong samples.
    if (o.pid !== undefined) {
      throw new EunomiaError(ErrorCodes.OPTION, 'tracker tcprtt: --pid is not supported (RTT samples are taken in packet receive context, not by the process) — filter with --lport/--rport/--laddr/--raddr or --cgroup');
    }
  },
  options: [
    { name: 'ms', flag: 'ms', type: 'bool', default: false, description: 'histogram in milliseconds instead of microseconds', global: 'targ_ms' },
    port('lport', 'lport', 'only connections with this local port', 'targ_lport'),
    port('rport', 'rport', 'only connections with this remote port', 'targ_rport'),
    addr('laddr', 'laddr', 'only connections with this local address (IPv4 or IPv6)', 'targ_laddr'),
    addr('raddr', 'raddr', 'only connections with this remote address (IPv4 or IPv6)', 'targ_raddr'),
    { name: 'byRaddr', flag: 'by-raddr', type: 'bool', default: false, description: 'one histogram per remote address', global: 'by_raddr' },
    { name: 'byLport', flag: 'by-lport', type: 'bool', default: false, description: 'one histogram per local port', global: 'by_lport' },
  ],
  columns: [
    { key: 'raddr', header: 'RADDR', width: 15 },
    { key: 'lport', header: 'LPORT', width: 5 },
    { key: 'count', header: 'COUNT', width: 8 },
    { key: 'avg', header: 'AVG', width: 8 },
    { key: 'unit', header: 'UNIT', width: 5 },
    { key: 'buckets', header: 'BUCKETS', format: (v) => (Array.isArray(v) ? v.map((b: Bucket) => `${b.low}-${b.high}:${b.count}`).join(' ') : '') },
  ],
  plain,
} satisfies TrackerDescriptor<TcprttData, HistsEntry>;
