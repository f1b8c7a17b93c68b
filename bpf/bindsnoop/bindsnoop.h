#pragma once
#include "eunomia.h"

#define BINDSNOOP_IFNAMSIZ 16

/* One bind() of an IPv4 or IPv6 socket. */
struct bindsnoop_event {
	struct eunomia_common;
	__u8 addr_raw[16];     /* as passed to bind(); 4 bytes used for IPv4 */
	__s32 result_raw;      /* bind()'s return: 0 or -errno */
	__s32 bound_dev_if;    /* ifindex the socket is bound to (SO_BINDTODEVICE), 0 if none */
	__u16 port;            /* host order: the port bound (chosen by the kernel for 0), or asked for if bind failed */
	__u16 family_raw;      /* AF_INET or AF_INET6, from the address */
	__u16 protocol_raw;    /* sk_protocol: IPPROTO_TCP, IPPROTO_UDP, ...; 0 if fd is no socket */
	__u8 opts_raw;         /* SOCK_OPT_* bits (sock.bpf.h) */
	char device[BINDSNOOP_IFNAMSIZ]; /* name of bound_dev_if in the socket's network namespace */
};
