/* Test object for the send-site scan (src/hotload/sends.ts): a variable-length record (a
 * header plus as many argument bytes as were read, sized at run time), and a non-inlined
 * subprogram that sends, called from two programs. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define ARGS_MAX 256

struct args_event {
	__u32 pid;
	__u32 args_len; /* bytes of args actually used */
	char comm[16];
	char args[ARGS_MAX];
};

struct sig_event { /* 16 bytes */
	__u32 pid;
	__u32 sig;
	__u64 ts_ns;
};

struct args_event *__eunomia_event_args_event __attribute__((unused, section(".eunomia.types")));
struct sig_event *__eunomia_event_sig_event __attribute__((unused, section(".eunomia.types")));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct args_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} signals SEC(".maps");

/* perf_event_output(&execs, offsetof(args) + e->args_len): sized at run time */
SEC("tracepoint/syscalls/sys_enter_execve")
int exec_args(struct trace_event_raw_sys_enter *ctx)
{
	__u32 zero = 0;
	struct args_event *e = bpf_map_lookup_elem(&scratch, &zero);
	long n;
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	n = bpf_probe_read_user_str(e->args, sizeof(e->args), (const char *)ctx->args[0]);
	if (n < 0)
		return 0;
	e->args_len = n & (ARGS_MAX - 1);
	bpf_perf_event_output(ctx, &execs, BPF_F_CURRENT_CPU, e,
			      __builtin_offsetof(struct args_event, args) + e->args_len);
	return 0;
}

/* A subprogram (BPF-to-BPF call target in .text) that sends: the site is its own. */
static __noinline int send_sig(__u32 sig)
{
	struct sig_event *e = bpf_ringbuf_reserve(&signals, sizeof(*e), 0);
	if (!e)
		return 0;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->sig = sig;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_ringbuf_submit(e, 0);
	return 1;
}

SEC("tp/signal/signal_generate")
int on_generate(struct trace_event_raw_signal_generate *ctx)
{
	return send_sig(ctx->sig);
}

SEC("tp/signal/signal_deliver")
int on_deliver(struct trace_event_raw_signal_deliver *ctx)
{
	return send_sig(ctx->sig);
}

char LICENSE[] SEC("license") = "GPL";
