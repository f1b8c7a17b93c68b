/* A hot-loaded test program: several programs (tracepoints and a raw tracepoint), several
 * maps (a ring buffer, a perf event array, an array), and a rodata option. Self-contained:
 * only vmlinux.h and libbpf's headers, like a program written outside Eunomia. Driven by the
 * test process through getppid(). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct hot_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 tag;    /* the rodata option "tag", as set before load */
	__u32 source; /* 1: ring buffer (sys_enter_getppid), 2: perf buffer (sys_exit_getppid) */
	__u32 seen;   /* syscalls of the target counted so far by the raw tracepoint */
	__s64 value;  /* sys_exit: what getppid returned */
	char comm[16];
};

/* clang emits BTF only for types the code names; this keeps struct hot_event for user space,
 * the way EUNOMIA_EVENT (bpf/include/eunomia.bpf.h) does. */
struct hot_event *__eunomia_event_hot_event __attribute__((unused, section(".eunomia.types")));

const volatile __u32 target_tgid = 0; /* only this process; 0 = every process */
const volatile __u32 tag = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} rb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} syscalls SEC(".maps");

static __always_inline bool mine(void)
{
	return !target_tgid || (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline __u32 seen(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&syscalls, &zero);
	return n ? (__u32)*n : 0;
}

static __always_inline void fill(struct hot_event *e, __u32 source)
{
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->tag = tag;
	e->source = source;
	e->seen = seen();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

SEC("raw_tracepoint/sys_enter")
int count_syscalls(void *ctx)
{
	__u32 zero = 0;
	__u64 *n;
	if (!mine())
		return 0;
	n = bpf_map_lookup_elem(&syscalls, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int enter_getppid(void *ctx)
{
	struct hot_event *e;
	if (!mine())
		return 0;
	e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);
	if (!e)
		return 0;
	fill(e, 1);
	e->value = 0;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_getppid")
int exit_getppid(struct trace_event_raw_sys_exit *ctx)
{
	struct hot_event e = {};
	if (!mine())
		return 0;
	fill(&e, 2);
	e.value = ctx->ret;
	bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
