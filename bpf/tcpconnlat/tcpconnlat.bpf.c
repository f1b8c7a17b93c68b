/* tcpconnlat: TCP connect latency, SYN sent to established, from sock:inet_sock_set_state
 * alone (no syscall tracepoint); see connect.bpf.h for how the process is known. */
#include "eunomia.bpf.h"
#include "connect.bpf.h"
#include "tcpconnlat.h"

EUNOMIA_EVENT(tcpconnlat_event);

const volatile __u64 min_latency_ns = 0;

SEC("tp/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)ctx->skaddr;

	if (ctx->oldstate == TCP_CLOSE && ctx->newstate == TCP_SYN_SENT) {
		if (!eunomia_skip(bpf_get_current_pid_tgid() >> 32))
			connect_remember(sk);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;

	struct eunomia_common *stored = connect_lookup(sk);
	if (!stored)
		return 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 latency = now - stored->ts_ns;
	/* A failed connect (SYN_SENT -> CLOSE) has no latency: only its entry goes. */
	struct tcpconnlat_event *e = NULL;
	if (ctx->newstate == TCP_ESTABLISHED && latency >= min_latency_ns)
		e = eunomia_reserve(sizeof(*e));
	if (e)
		__builtin_memcpy(e, stored, sizeof(*stored));
	connect_forget(sk);
	if (!e)
		return 0;
	e->ts_ns = now;
	e->latency_ns = latency;
	SOCK_STATE_FLOW(e, ctx);
	eunomia_submit(e);
	return 0;
}
