#pragma once
#include "eunomia.h"

enum tcpconnect_direction {
	connect = 1, /* the process called connect() */
	accept = 2,  /* the process accepted the connection */
};

/* A TCP connection, source = the side that connected, destination = the side that accepted. */
struct tcpconnect_event {
	struct eunomia_common;
	__u8 saddr_raw[16]; /* 4 bytes used for IPv4 */
	__u8 daddr_raw[16];
	enum tcpconnect_direction direction;
	__u32 error_raw;    /* connect: the socket error that ended the handshake (errno), 0 if none */
	__u16 sport;        /* host byte order */
	__u16 dport;
	__u16 family_raw;   /* AF_INET or AF_INET6 */
	bool established;   /* connect: the handshake completed; accept: always */
};
