/* Test object for the send-site scan (src/hotload/sends.ts): records of constant size, two
 * streams with different record types, sent each way a program can (ringbuf_reserve,
 * ringbuf_output, perf_event_output). Only vmlinux.h and libbpf's headers. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct open_event { /* 40 bytes */
	__u64 ts_ns;
	__u32 pid;
	__u32 flags;
	char comm[16];
	__s64 ret;
};

struct exit_event { /* 24 bytes */
	__u64 ts_ns;
	__u32 pid;
	__s32 code;
	__u64 runtime_ns;
};

struct open_event *__eunomia_event_open_event __attribute__((unused, section(".eunomia.types")));
struct exit_event *__eunomia_event_exit_event __attribute__((unused, section(".eunomia.types")));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} opens SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} exits_rb SEC(".maps");

const volatile __u32 target_tgid = 0;

/* ringbuf_reserve(&opens, sizeof(struct open_event)) */
SEC("tracepoint/syscalls/sys_enter_openat")
int reserve_open(struct trace_event_raw_sys_enter *ctx)
{
	struct open_event *e;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (target_tgid && pid != target_tgid)
		return 0;
	e = bpf_ringbuf_reserve(&opens, sizeof(*e), 0);
	if (!e)
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = pid;
	e->flags = ctx->args[2];
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->ret = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* perf_event_output(&exits, sizeof(local struct exit_event)) */
SEC("tp/sched/sched_process_exit")
int perf_exit(void *ctx)
{
	struct exit_event e = {};
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = bpf_get_current_pid_tgid() >> 32;
	if (target_tgid && e.pid != target_tgid)
		return 0;
	e.code = 1;
	bpf_perf_event_output(ctx, &exits, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

/* ringbuf_output(&exits_rb, sizeof(struct exit_event)) of a stack copy */
SEC("tp/sched/sched_process_free")
int output_exit(void *ctx)
{
	struct exit_event e = {};
	e.ts_ns = bpf_ktime_get_ns();
	e.pid = bpf_get_current_pid_tgid() >> 32;
	bpf_ringbuf_output(&exits_rb, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
