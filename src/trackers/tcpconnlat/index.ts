/** tcpconnlat: TCP connect latency, SYN sent to established (sock:inet_sock_set_state). */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import { familyName, ipString } from '../names/net.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { tcpconnlatMetrics, tcpconnlatOriginalMetrics } from './metrics.js';
import type { TcpconnlatEvent } from './event.gen.js';

/** A tcpconnlat_event and the names format adds. */
export type TcpconnlatData = TcpconnlatEvent & { family: string; saddr: string; daddr: string };

const us = (v: unknown): string => (typeof v === 'number' ? (v / 1e3).toFixed(1) : '');

export const tcpconnlatTracker: TrackerDescriptor = {
  name: 'tcpconnlat',
  summary: 'TCP connect latency (SYN sent to established) per connection, with process, addresses and ports',
  metrics: tcpconnlatMetrics,
  originalMetrics: tcpconnlatOriginalMetrics,
  object: 'tcpconnlat.bpf.o',
  event: { struct: 'tcpconnlat_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  options: [
    {
      name: 'minUs',
      flag: 'min-us',
      type: 'uint',
      arg: 'US',
      description: 'only connects that took at least US microseconds (in-kernel filter)',
      global: 'min_latency_ns',
      toGlobal: (v) => BigInt(v as number) * 1000n,
      max: 2 ** 40,
    },
  ],
  columns: [
    c.pid,
    c.uid,
    c.comm,
    { key: 'family', header: 'IP', width: 4 },
    { key: 'saddr', header: 'SADDR', width: 15 },
    { key: 'sport', header: 'SPORT', width: 5 },
    { key: 'daddr', header: 'DADDR', width: 15 },
    { key: 'dport', header: 'DPORT', width: 5 },
    { key: 'latency_ns', header: 'LAT(us)', format: us },
  ],
  format(data) {
    const family = data.family_raw;
    data.family = familyName(family);
    data.saddr = ipString(family, data.saddr_raw);
    data.daddr = ipString(family, data.daddr_raw);
  },
} satisfies TrackerDescriptor<TcpconnlatData>;
