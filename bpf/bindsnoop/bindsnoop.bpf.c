/* bindsnoop: bind() of IPv4/IPv6 sockets. No non-syscall tracepoint sees bind (inet_bind
 * has none), so sys_enter_bind keeps the fd and the address asked for, per thread, and
 * sys_exit_bind adds the result and reads the socket's protocol and options from the fd. */
#include "eunomia.bpf.h"
#include "sock.bpf.h"
#include "bindsnoop.h"

EUNOMIA_EVENT(bindsnoop_event);

const volatile __u16 target_port = 0; /* only this port, 0 = all */
const volatile bool only_failed = false;

struct bind_args {
	__s64 fd;
	__u8 addr[16];
	__u16 port;
	__u16 family;
};

/* enter -> exit of one bind(), by thread; deleted at exit. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct bind_args);
} binds SEC(".maps");

SEC("tp/syscalls/sys_enter_bind")
int handle_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (eunomia_skip(id >> 32))
		return 0;
	const void *uaddr = (const void *)ctx->args[1];
	struct bind_args a = {};
	a.fd = (__s64)ctx->args[0];
	if (bpf_probe_read_user(&a.family, sizeof(a.family), uaddr))
		return 0;
	if (a.family == SOCK_AF_INET) {
		struct sockaddr_in sa;
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return 0;
		a.port = sock_ntohs(sa.sin_port);
		__builtin_memcpy(a.addr, &sa.sin_addr, 4);
	} else if (a.family == SOCK_AF_INET6) {
		struct sockaddr_in6 sa;
		if (bpf_probe_read_user(&sa, sizeof(sa), uaddr))
			return 0;
		a.port = sock_ntohs(sa.sin6_port);
		__builtin_memcpy(a.addr, &sa.sin6_addr, 16);
	} else {
		return 0; /* unix, netlink, packet ...: not ours */
	}
	bpf_map_update_elem(&binds, &id, &a, BPF_ANY);
	return 0;
}

SEC("tp/syscalls/sys_exit_bind")
int handle_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct bind_args *ap = bpf_map_lookup_elem(&binds, &id);
	if (!ap)
		return 0;
	struct bind_args a = *ap;
	bpf_map_delete_elem(&binds, &id);

	int ret = ctx->ret;
	if (only_failed && ret == 0)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct socket *sock = sock_from_fd(task, a.fd);
	struct sock *sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	__u16 port = a.port;
	if (ret == 0 && sk) /* port 0 asks the kernel to choose one: report its choice */
		port = sock_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	if (target_port && port != target_port)
		return 0;

	struct bindsnoop_event *e = eunomia_reserve(sizeof(*e));
	if (!e)
		return 0;
	eunomia_fill_common((struct eunomia_common *)e, task);
	__builtin_memcpy(e->addr_raw, a.addr, sizeof(a.addr));
	e->result_raw = ret;
	e->port = port;
	e->family_raw = a.family;
	if (sk) {
		e->protocol_raw = sock_protocol(sk);
		e->opts_raw = sock_bind_opts(sk);
		e->bound_dev_if = BPF_CORE_READ(sk, __sk_common.skc_bound_dev_if);
		sock_dev_name(sk, e->bound_dev_if, e->device);
	} else {
		e->protocol_raw = 0;
		e->opts_raw = 0;
		e->bound_dev_if = 0;
		e->device[0] = 0;
	}
	eunomia_submit(e);
	return 0;
}
