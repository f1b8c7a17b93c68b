#pragma once
#include "eunomia.h"

#define TCPRTT_SLOTS 27

/* One histogram per key: all zero unless --by-raddr / --by-lport groups the samples. */
struct tcprtt_key {
	__u8 raddr_raw[16];  /* --by-raddr: remote address; IPv4 as ::ffff:a.b.c.d */
	__u16 family;        /* --by-raddr: the socket's family (AF_INET or AF_INET6) */
	__u16 lport;         /* --by-lport: local port, host byte order */
};

struct tcprtt_hist {
	__u32 slots[TCPRTT_SLOTS];  /* log2 histogram of the smoothed RTT, in µs (ms with --ms) */
	__u64 count;                /* samples */
	__u64 total_us;             /* sum of the samples' RTT in µs, for the average */
};
