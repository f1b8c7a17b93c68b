/** bindsnoop: bind() of IPv4/IPv6 sockets (syscalls:sys_enter_bind / sys_exit_bind). */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import { errnoName } from '../names/errno.js';
import { familyName, ipString } from '../names/net.js';
import { ipProtocolName } from '../names/sock.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { bindsnoopMetrics, bindsnoopOriginalMetrics } from './metrics.js';
import type { BindsnoopEvent } from './event.gen.js';

/** A bindsnoop_event and the names format adds. */
export type BindsnoopData = BindsnoopEvent & { family: string; addr: string; protocol: string; opts: string; result: string };

/** Bind options as libbpf-tools' bindsnoop prints them: one letter per bit, '.' when unset. */
const OPT_LETTERS = 'FTNRr'; // IP_FREEBIND, IP_TRANSPARENT, IP_BIND_ADDRESS_NO_PORT, SO_REUSEADDR, SO_REUSEPORT

export function bindOpts(bits: number): string {
  let s = '';
  for (let i = 0; i < OPT_LETTERS.length; i++) s += bits & (1 << i) ? OPT_LETTERS[i] : '.';
  return s;
}

export const bindsnoopTracker: TrackerDescriptor = {
  name: 'bindsnoop',
  summary: 'bind() of IPv4/IPv6 sockets: process, protocol, address, port, socket options, device, result',
  metrics: bindsnoopMetrics,
  originalMetrics: bindsnoopOriginalMetrics,
  object: 'bindsnoop.bpf.o',
  event: { struct: 'bindsnoop_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  options: [
    {
      name: 'port',
      flag: 'port',
      type: 'uint',
      arg: 'PORT',
      description: 'only binds of this port (the port bound, or asked for if bind failed; in-kernel filter)',
      global: 'target_port',
      max: 65535,
    },
    { name: 'failed', flag: 'failed', type: 'bool', description: 'only failed binds (in-kernel filter)', global: 'only_failed' },
  ],
  columns: [
    c.pid,
    c.uid,
    c.comm,
    { key: 'result', header: 'RESULT', width: 10 },
    { key: 'protocol', header: 'PROTO', width: 5 },
    { key: 'opts', header: 'OPTS', width: 5 },
    { key: 'device', header: 'IF', width: 6 },
    { key: 'port', header: 'PORT', width: 5 },
    { key: 'addr', header: 'ADDR' },
  ],
  format(data) {
    const family = data.family_raw;
    const protocol = data.protocol_raw;
    data.family = familyName(family);
    data.addr = ipString(family, data.addr_raw);
    data.protocol = protocol ? ipProtocolName(protocol) : '';
    data.opts = bindOpts(data.opts_raw);
    data.result = errnoName(data.result_raw) || '0';
  },
} satisfies TrackerDescriptor<BindsnoopData>;
