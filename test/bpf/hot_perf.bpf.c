/* A perf event array program like libbpf-tools' tcpstates (written for these tests): a fixed
 * record from a stack variable through bpf_perf_event_output, with a size that perf pads (30
 * bytes: each record arrives as 36). struct event is named by a global, so it is in the BTF. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct event {
	__u64 ts;
	__u32 pid;
	__s32 old_prio;
	__u16 kind;
	char comm[12];
} __attribute__((packed));

struct event *unused_event_ptr __attribute__((unused));

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} changes SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_getpriority")
int on_getpriority(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (target_tgid && (id >> 32) != target_tgid)
		return 0;
	struct event e = {};
	e.ts = bpf_ktime_get_ns();
	e.pid = id >> 32;
	e.old_prio = (__s32)ctx->args[1];
	e.kind = 7;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	bpf_perf_event_output(ctx, &changes, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
