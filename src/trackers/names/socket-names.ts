/** Address families and socket types (include/linux/socket.h, include/linux/net.h). */

const FAMILIES = [
  'AF_UNSPEC', 'AF_UNIX', 'AF_INET', 'AF_AX25', 'AF_IPX', 'AF_APPLETALK', 'AF_NETROM', 'AF_BRIDGE', 'AF_ATMPVC',
  'AF_X25', 'AF_INET6', 'AF_ROSE', 'AF_DECnet', 'AF_NETBEUI', 'AF_SECURITY', 'AF_KEY', 'AF_NETLINK', 'AF_PACKET',
  'AF_ASH', 'AF_ECONET', 'AF_ATMSVC', 'AF_RDS', 'AF_SNA', 'AF_IRDA', 'AF_PPPOX', 'AF_WANPIPE', 'AF_LLC', 'AF_IB',
  'AF_MPLS', 'AF_CAN', 'AF_TIPC', 'AF_BLUETOOTH', 'AF_IUCV', 'AF_RXRPC', 'AF_ISDN', 'AF_PHONET', 'AF_IEEE802154',
  'AF_CAIF', 'AF_ALG', 'AF_NFC', 'AF_VSOCK', 'AF_KCM', 'AF_QIPCRTR', 'AF_SMC', 'AF_XDP', 'AF_MCTP',
];

/** "AF_INET" for 2; "AF_<n>" when unknown. */
export function addressFamilyName(family: number): string {
  return FAMILIES[family] ?? `AF_${family}`;
}

const TYPES: Record<number, string> = {
  1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 4: 'SOCK_RDM', 5: 'SOCK_SEQPACKET', 6: 'SOCK_DCCP', 10: 'SOCK_PACKET',
};

/** The type argument of socket(2) without its SOCK_NONBLOCK and SOCK_CLOEXEC bits: "SOCK_RAW" for 3. */
export function socketTypeName(type: number): string {
  const t = type & 0xf;
  return TYPES[t] ?? `SOCK_${t}`;
}
