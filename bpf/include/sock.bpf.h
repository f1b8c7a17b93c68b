/* Socket helpers shared by the tcpconnect, tcpconnlat and bindsnoop trackers: the socket
 * behind a file descriptor, a sock's addresses, protocol and bind options, and the events
 * of the sock:inet_sock_set_state tracepoint. Include after eunomia.bpf.h. */
#pragma once
#include "eunomia.bpf.h"

#define SOCK_AF_INET 2
#define SOCK_AF_INET6 10
#define SOCK_IPPROTO_TCP 6
#define SOCK_IFNAMSIZ 16

static __always_inline __u16 sock_ntohs(__u16 v)
{
	return __builtin_bswap16(v);
}

/* The struct socket behind `fd` in the current process, or NULL when fd is not a socket.
 * A socket file's private_data is its struct socket, whose `file` points back to it: that
 * check rejects other files without needing the address of socket_file_ops. */
static __always_inline struct socket *sock_from_fd(struct task_struct *task, long fd)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	if (fd < 0 || fd >= max_fds)
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *file = NULL;
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	struct socket *sock = BPF_CORE_READ(file, private_data);
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	return sock;
}

/* sk_protocol was a bitfield before 5.6; the probed read handles both layouts. */
static __always_inline __u16 sock_protocol(struct sock *sk)
{
	return BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
}

/* Local and remote address of a connected inet sock (4 bytes used for IPv4, 16 for IPv6). */
static __always_inline void sock_addrs(struct sock *sk, __u16 family, __u8 *local, __u8 *remote)
{
	if (family == SOCK_AF_INET) {
		bpf_core_read(local, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(remote, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(local, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(remote, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* Bind options, one bit each, in the order libbpf-tools' bindsnoop prints them ("FTNRr"). */
#define SOCK_OPT_FREEBIND (1 << 0)
#define SOCK_OPT_TRANSPARENT (1 << 1)
#define SOCK_OPT_BIND_ADDRESS_NO_PORT (1 << 2)
#define SOCK_OPT_REUSEADDR (1 << 3)
#define SOCK_OPT_REUSEPORT (1 << 4)

/* Before 6.6 these were bitfields of struct inet_sock; since then they are bits of
 * inet_flags. The ___old flavour lets one object load on both layouts. The bits come from
 * an anonymous enum (CO-RE cannot relocate those); they have not moved since 6.6. */
#define SOCK_INET_FLAGS_FREEBIND 11
#define SOCK_INET_FLAGS_TRANSPARENT 15
#define SOCK_INET_FLAGS_BIND_ADDRESS_NO_PORT 18

struct inet_sock___old {
	__u8 freebind : 1;
	__u8 transparent : 1;
	__u8 bind_address_no_port : 1;
};

static __always_inline __u8 sock_bind_opts(struct sock *sk)
{
	__u8 opts = 0;
	if (bpf_core_field_exists(struct inet_sock___old, freebind)) {
		struct inet_sock___old *old = (void *)sk;
		if (BPF_CORE_READ_BITFIELD_PROBED(old, freebind))
			opts |= SOCK_OPT_FREEBIND;
		if (BPF_CORE_READ_BITFIELD_PROBED(old, transparent))
			opts |= SOCK_OPT_TRANSPARENT;
		if (BPF_CORE_READ_BITFIELD_PROBED(old, bind_address_no_port))
			opts |= SOCK_OPT_BIND_ADDRESS_NO_PORT;
	} else {
		unsigned long flags = BPF_CORE_READ((struct inet_sock *)sk, inet_flags);
		if (flags & (1UL << SOCK_INET_FLAGS_FREEBIND))
			opts |= SOCK_OPT_FREEBIND;
		if (flags & (1UL << SOCK_INET_FLAGS_TRANSPARENT))
			opts |= SOCK_OPT_TRANSPARENT;
		if (flags & (1UL << SOCK_INET_FLAGS_BIND_ADDRESS_NO_PORT))
			opts |= SOCK_OPT_BIND_ADDRESS_NO_PORT;
	}
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuse))
		opts |= SOCK_OPT_REUSEADDR;
	if (BPF_CORE_READ_BITFIELD_PROBED(sk, __sk_common.skc_reuseport))
		opts |= SOCK_OPT_REUSEPORT;
	return opts;
}

#define SOCK_DEV_HASH 256 /* NETDEV_HASHENTRIES */
#define SOCK_DEV_CHAIN 4  /* entries walked per hash bucket: chains are almost always 1 long */

/* The name of device `ifindex` in the sock's network namespace (so a container's own
 * interfaces resolve), from the namespace's ifindex hash. Empty if not found. */
static __always_inline void sock_dev_name(struct sock *sk, int ifindex, char *name)
{
	name[0] = 0;
	if (ifindex <= 0)
		return;
	struct net *net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	struct hlist_head *heads = BPF_CORE_READ(net, dev_index_head);
	struct hlist_node *node = NULL;
	bpf_probe_read_kernel(&node, sizeof(node), &heads[ifindex & (SOCK_DEV_HASH - 1)].first);
	__u32 off = bpf_core_field_offset(struct net_device, index_hlist);
	for (int i = 0; i < SOCK_DEV_CHAIN && node; i++) {
		struct net_device *dev = (void *)node - off;
		if (BPF_CORE_READ(dev, ifindex) == ifindex) {
			bpf_core_read_str(name, SOCK_IFNAMSIZ, &dev->name);
			return;
		}
		node = BPF_CORE_READ(node, next);
	}
}

/* Copies the addresses, ports (already host order there) and family of a
 * sock:inet_sock_set_state event into an event with saddr_raw, daddr_raw, sport, dport and
 * family_raw fields. Probe reads: the verifier refuses loads through ctx plus an offset. */
#define SOCK_STATE_FLOW(e, ctx)                                                        \
	do {                                                                           \
		(e)->family_raw = (ctx)->family;                                       \
		(e)->sport = (ctx)->sport;                                             \
		(e)->dport = (ctx)->dport;                                             \
		__builtin_memset((e)->saddr_raw, 0, sizeof((e)->saddr_raw));          \
		__builtin_memset((e)->daddr_raw, 0, sizeof((e)->daddr_raw));          \
		if ((ctx)->family == SOCK_AF_INET) {                                   \
			bpf_probe_read_kernel((e)->saddr_raw, 4, (ctx)->saddr);        \
			bpf_probe_read_kernel((e)->daddr_raw, 4, (ctx)->daddr);        \
		} else {                                                               \
			bpf_probe_read_kernel((e)->saddr_raw, 16, (ctx)->saddr_v6);    \
			bpf_probe_read_kernel((e)->daddr_raw, 16, (ctx)->daddr_v6);    \
		}                                                                      \
	} while (0)
