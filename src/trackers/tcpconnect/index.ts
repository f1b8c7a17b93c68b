/** tcpconnect: TCP connects and accepts, IPv4 and IPv6 (sock:inet_sock_set_state, accept exits). */
import { commonColumns as c, LOW_RATE_POLL_MS, LOW_RATE_RING } from '../common.js';
import { errnoName } from '../names/errno.js';
import { familyName, ipString } from '../names/net.js';
import type { TrackerDescriptor } from '../../runtime/types.js';
import { tcpconnectMetrics, tcpconnectOriginalMetrics } from './metrics.js';
import type { TcpconnectEvent } from './event.gen.js';

/** A tcpconnect_event and the names format adds. */
export type TcpconnectData = TcpconnectEvent & { family: string; saddr: string; daddr: string; result: string };

/** "0" when the connection was made, the errno name that ended the handshake, else "aborted". */
export function connectResult(established: unknown, error: unknown): string {
  if (established === true) return '0';
  return errnoName(Number(error)) || 'aborted';
}

/** Program names in bpf/tcpconnect/tcpconnect.bpf.c. */
const CONNECT_PROGRAMS = ['handle_set_state'];
const ACCEPT_PROGRAMS = ['handle_accept4_exit', 'handle_accept_exit'];

export const tcpconnectTracker: TrackerDescriptor = {
  name: 'tcpconnect',
  summary: 'TCP connects and accepts (IPv4, IPv6): process, addresses, ports, result',
  metrics: tcpconnectMetrics,
  originalMetrics: tcpconnectOriginalMetrics,
  object: 'tcpconnect.bpf.o',
  event: { struct: 'tcpconnect_event', map: 'events' },
  ringBytes: LOW_RATE_RING,
  pollMs: LOW_RATE_POLL_MS,
  options: [
    {
      name: 'port',
      flag: 'port',
      type: 'uint',
      arg: 'PORT',
      description: 'only connections to this destination (server) port: the remote port of a connect, the local port of an accept (in-kernel filter)',
      global: 'target_port',
      max: 65535,
    },
    { name: 'ipv4', flag: 'ipv4', type: 'bool', description: 'only IPv4 connections (in-kernel filter)', global: 'only_ipv4' },
    { name: 'ipv6', flag: 'ipv6', type: 'bool', description: 'only IPv6 connections (in-kernel filter)', global: 'only_ipv6' },
    {
      name: 'connectOnly',
      flag: 'connect-only',
      type: 'bool',
      description: 'only connects: the accept programs are not loaded, so no syscall tracepoint slows other syscalls',
    },
  ],
  programs: (o) => (o.connectOnly ? CONNECT_PROGRAMS : [...CONNECT_PROGRAMS, ...ACCEPT_PROGRAMS]),
  columns: [
    { key: 'direction', header: 'DIR', width: 7 },
    c.pid,
    c.uid,
    c.comm,
    { key: 'family', header: 'IP', width: 4 },
    { key: 'saddr', header: 'SADDR', width: 15 },
    { key: 'sport', header: 'SPORT', width: 5 },
    { key: 'daddr', header: 'DADDR', width: 15 },
    { key: 'dport', header: 'DPORT', width: 5 },
    { key: 'result', header: 'RESULT' },
  ],
  format(data) {
    const family = data.family_raw;
    data.family = familyName(family);
    data.saddr = ipString(family, data.saddr_raw);
    data.daddr = ipString(family, data.daddr_raw);
    data.result = connectResult(data.established, data.error_raw);
  },
} satisfies TrackerDescriptor<TcpconnectData>;
