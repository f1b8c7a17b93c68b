#pragma once
#include "eunomia.h"

/* One TCP connect that completed: the time from SYN sent to established. */
struct tcpconnlat_event {
	struct eunomia_common; /* the process that called connect() */
	__u8 saddr_raw[16];    /* 4 bytes used for IPv4 */
	__u8 daddr_raw[16];
	__u64 latency_ns;
	__u16 sport;           /* host byte order */
	__u16 dport;
	__u16 family_raw;      /* AF_INET or AF_INET6 */
};
