/* tcpconnect: TCP connects (sock:inet_sock_set_state) and accepts (accept syscalls exit).
 *
 * Connect: at CLOSE->SYN_SENT the connecting process is current, but its source port is not
 * chosen yet (inet_hash_connect runs after the state change). So the process is remembered
 * per sock there, and the event is sent when SYN_SENT ends (established, refused, timed out),
 * when the tracepoint carries the source port too. No syscall tracepoint is needed for it.
 * Accept: no non-syscall tracepoint runs in the accepting process, so the exits of accept and
 * accept4 read the new socket from the returned fd. */
#include "eunomia.bpf.h"
#include "connect.bpf.h"
#include "tcpconnect.h"

EUNOMIA_EVENT(tcpconnect_event);

const volatile __u16 target_port = 0; /* only this destination (server) port, 0 = all */
const volatile bool only_ipv4 = false;
const volatile bool only_ipv6 = false;

static __always_inline bool skip_flow(__u16 family, __u16 dport)
{
	if (target_port && dport != target_port)
		return true;
	if (only_ipv4 || only_ipv6) {
		if (!(only_ipv4 && family == SOCK_AF_INET) && !(only_ipv6 && family == SOCK_AF_INET6))
			return true;
	}
	return false;
}

SEC("tp/sock/inet_sock_set_state")
int handle_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != SOCK_IPPROTO_TCP)
		return 0;
	__u64 sk = (__u64)ctx->skaddr;

	if (ctx->oldstate == TCP_CLOSE && ctx->newstate == TCP_SYN_SENT) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		if (!eunomia_skip(tgid) && !skip_flow(ctx->family, ctx->dport))
			connect_remember(sk);
		return 0;
	}
	if (ctx->oldstate != TCP_SYN_SENT)
		return 0;

	struct eunomia_common *stored = connect_lookup(sk);
	if (!stored)
		return 0;
	struct tcpconnect_event *e = eunomia_reserve(sizeof(*e));
	if (e)
		__builtin_memcpy(e, stored, sizeof(*stored)); /* ts_ns: when connect() started */
	connect_forget(sk);
	if (!e)
		return 0;
	SOCK_STATE_FLOW(e, ctx);
	e->direction = connect;
	e->established = ctx->newstate == TCP_ESTABLISHED;
	e->error_raw = e->established ? 0 : BPF_CORE_READ((struct sock *)ctx->skaddr, sk_err);
	eunomia_submit(e);
	return 0;
}

static __always_inline int handle_accept(long fd)
{
	if (fd < 0)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (eunomia_skip(tgid))
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct socket *sock = sock_from_fd(task, fd);
	if (!sock)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || sock_protocol(sk) != SOCK_IPPROTO_TCP)
		return 0;
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != SOCK_AF_INET && family != SOCK_AF_INET6)
		return 0;
	__u16 lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (skip_flow(family, lport))
		return 0;

	struct tcpconnect_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, task);
	__builtin_memset(e->saddr_raw, 0, sizeof(e->saddr_raw));
	__builtin_memset(e->daddr_raw, 0, sizeof(e->daddr_raw));
	/* The peer connected to us: it is the source. */
	sock_addrs(sk, family, e->daddr_raw, e->saddr_raw);
	e->sport = sock_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->dport = lport;
	e->family_raw = family;
	e->direction = accept;
	e->established = true;
	e->error_raw = 0;
	eunomia_submit(e);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept4")
int handle_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept(ctx->ret);
}

SEC("tp/syscalls/sys_exit_accept")
int handle_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return handle_accept(ctx->ret);
}
