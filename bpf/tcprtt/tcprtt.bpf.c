/* tcprtt: the smoothed RTT of established TCP connections as log2 histograms. tcp:tcp_probe
 * fires in tcp_rcv_established for every received segment and carries srtt (already
 * srtt_us >> 3, in µs), the addresses and ports: no kprobe needed. It runs in softirq
 * context, so the current task says nothing about the socket's owner: the cgroup filter
 * uses the socket's cgroup, and there is no pid filter (user space refuses --pid). */
#include "eunomia.bpf.h"
#include "aggregate.bpf.h"
#include "tcprtt.h"

#define AF_INET 2
#define AF_INET6 10

const volatile bool targ_ms = false;
const volatile bool by_raddr = false;
const volatile bool by_lport = false;
const volatile __u16 targ_lport = 0;
const volatile __u16 targ_rport = 0;
/* 16-byte addresses (IPv4 as ::ffff:a.b.c.d) as two words; all zero = no filter */
const volatile __u64 targ_laddr[2] = {};
const volatile __u64 targ_raddr[2] = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 10240);
	__type(key, struct tcprtt_key);
	__type(value, struct tcprtt_hist);
} hists SEC(".maps");

/* The address in a tracepoint's sockaddr bytes (sockaddr_in or sockaddr_in6) as 16 bytes,
 * IPv4 as ::ffff:a.b.c.d. Probe reads: clang turns direct reads into loads through a ctx
 * pointer plus an offset, which the verifier refuses. Only done for address filters and
 * --by-raddr. */
static __always_inline void sockaddr_words(const __u8 *sa, __u16 family, __u64 *w)
{
	if (family == AF_INET) {
		__u32 a = 0;
		bpf_probe_read_kernel(&a, 4, sa + 4); /* sin_addr */
		w[0] = 0;
		w[1] = 0xffff0000ULL | ((__u64)a << 32);
	} else {
		bpf_probe_read_kernel(w, 16, sa + 8); /* sin6_addr */
	}
}

static __always_inline __u32 log2_slot(__u32 v)
{
	__u32 r = eunomia_log2(v);
	return r < TCPRTT_SLOTS ? r : TCPRTT_SLOTS - 1;
}

SEC("tp/tcp/tcp_probe")
int tcp_probe(struct trace_event_raw_tcp_probe *ctx)
{
	if (targ_lport && ctx->sport != targ_lport)
		return 0;
	if (targ_rport && ctx->dport != targ_rport)
		return 0;
	__u16 family = ctx->family;
	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (targ_laddr[0] || targ_laddr[1]) {
		__u64 a[2] = {};
		sockaddr_words(ctx->saddr, family, a);
		if (a[0] != targ_laddr[0] || a[1] != targ_laddr[1])
			return 0;
	}
	__u64 ra[2] = {};
	if (targ_raddr[0] || targ_raddr[1] || by_raddr) {
		sockaddr_words(ctx->daddr, family, ra);
		if ((targ_raddr[0] || targ_raddr[1]) && (ra[0] != targ_raddr[0] || ra[1] != targ_raddr[1]))
			return 0;
	}
	if (eunomia_target_cgroup) {
		struct sock *sk = (struct sock *)ctx->skaddr;
		if (BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id) != eunomia_target_cgroup)
			return 0;
	}

	struct tcprtt_key key = {};
	if (by_raddr) {
		__builtin_memcpy(key.raddr_raw, ra, sizeof(ra));
		key.family = family;
	}
	if (by_lport)
		key.lport = ctx->sport;
	struct tcprtt_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (!h) {
		struct tcprtt_hist zero = {};
		/* -EEXIST: another CPU inserted it first, the lookup below finds it */
		long err = bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hists, &key);
		if (!h) {
			if (err)
				eunomia_map_insert_failed();
			return 0;
		}
	}
	__u32 srtt = ctx->srtt; /* µs */
	h->slots[log2_slot(targ_ms ? srtt / 1000 : srtt)]++;
	h->count++;
	h->total_us += srtt;
	return 0;
}
