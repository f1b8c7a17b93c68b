/* tcpconnlat: TCP connect latency, SYN sent to established, from sock:inet_sock_set_state
 * alone (no syscall tracepoint). CLOSE->SYN_SENT runs in the connecting process; the end of
 * SYN_SENT usually runs in softirq, so the process is remembered per sock in between. */
#include "eunomia.bpf.h"
#include "sock.bpf.h"
#include "tcpconnlat.h"

EUNOMIA_EVENT(tcpconnlat_event);

const volatile __u64 min_latency_ns = 0;

/* The connecting process, by sock; its ts_ns is when the SYN state began. LRU: a sock that
 * never leaves SYN_SENT while we watch must not hold an entry forever. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct eunomia_common);
} connecting SEC(".maps");

SEC("tp/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)ctx->skaddr;

	if (ctx->oldstate == TCP_CLOSE && ctx->newstate == TCP_SYN_SENT) {
		if (eunomia_skip(bpf_get_current_pid_tgid() >> 32))
			return 0;
		struct eunomia_common c;
		eunomia_fill_common(&c, (struct task_struct *)bpf_get_current_task());
		bpf_map_update_elem(&connecting, &sk, &c, BPF_ANY);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;

	struct eunomia_common *stored = bpf_map_lookup_elem(&connecting, &sk);
	if (!stored)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 latency = now - stored->ts_ns;
	/* A failed connect (SYN_SENT -> CLOSE) has no latency: only its entry goes. */
	if (ctx->newstate != TCP_ESTABLISHED || latency < min_latency_ns) {
		bpf_map_delete_elem(&connecting, &sk);
		return 0;
	}
	struct tcpconnlat_event *e = eunomia_reserve(sizeof(*e));
	if (!e) {
		bpf_map_delete_elem(&connecting, &sk);
		return 0;
	}
	/* The header of the connecting process, not current's (often softirq here). */
	__builtin_memcpy(e, stored, sizeof(*stored));
	bpf_map_delete_elem(&connecting, &sk);
	e->ts_ns = now;
	e->latency_ns = latency;

	struct sock_flow f = {};
	sock_flow_from_state(ctx, &f);
	__builtin_memcpy(e->saddr_raw, f.saddr, sizeof(f.saddr));
	__builtin_memcpy(e->daddr_raw, f.daddr, sizeof(f.daddr));
	e->sport = f.sport;
	e->dport = f.dport;
	e->family_raw = f.family;
	eunomia_submit(e);
	return 0;
}
