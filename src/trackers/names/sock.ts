/** Socket names for the socket trackers: IP protocol numbers (include/uapi/linux/in.h). */
const PROTOCOLS: Record<number, string> = {
  0: 'IP', 1: 'ICMP', 2: 'IGMP', 4: 'IPIP', 6: 'TCP', 17: 'UDP', 41: 'IPV6', 47: 'GRE', 50: 'ESP', 51: 'AH',
  58: 'ICMPV6', 103: 'PIM', 132: 'SCTP', 136: 'UDPLITE', 143: 'ETHERNET', 255: 'RAW', 262: 'MPTCP',
};

/** "TCP" for 6, "UDP" for 17; the number as text when unknown. */
export function ipProtocolName(n: number): string {
  return PROTOCOLS[n] ?? String(n);
}
