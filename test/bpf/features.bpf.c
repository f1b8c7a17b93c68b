/* Exercises every attach type and map kind of the binding, driven by the test process. */
#include "eunomia.bpf.h"

struct feature_event {
	struct eunomia_common;
	__u32 source; /* 1 tracepoint, 2 perf buffer */
	__u32 magic;
	__u64 seq;
};

EUNOMIA_EVENT(feature_event);

const volatile __u32 target_tgid = 0;
const volatile __u32 magic = 0;
__u64 tp_hits = 0;    /* .bss, read back through the map */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} scratch_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

enum { C_RAW_TP, C_TP_BTF, C_UPROBE, C_URETPROBE, C_PERF_EVENT };

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &idx);
	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline bool mine(void)
{
	return (bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

SEC("tp/syscalls/sys_enter_getppid")
int on_getppid(void *ctx)
{
	if (!mine())
		return 0;
	__u64 seq = __sync_fetch_and_add(&tp_hits, 1);
	struct feature_event *e = eunomia_reserve(sizeof(*e));
	if (e) {
		eunomia_fill_common((struct eunomia_common *)e, (struct task_struct *)bpf_get_current_task());
		e->source = 1;
		e->magic = magic;
		e->seq = seq;
		eunomia_submit(e);
	}
	struct feature_event pe = {};
	pe.source = 2;
	pe.magic = magic;
	pe.seq = seq;
	pe.pid = target_tgid;
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &pe, sizeof(pe));
	return 0;
}

SEC("raw_tp/sys_enter")
int on_raw_sys_enter(void *ctx)
{
	if (mine())
		bump(C_RAW_TP);
	return 0;
}

SEC("tp_btf/sys_enter")
int on_btf_sys_enter(void *ctx)
{
	if (mine())
		bump(C_TP_BTF);
	return 0;
}

SEC("uprobe")
int on_uprobe(void *ctx)
{
	if (mine())
		bump(C_UPROBE);
	return 0;
}

SEC("uretprobe")
int on_uretprobe(void *ctx)
{
	if (mine())
		bump(C_URETPROBE);
	return 0;
}

SEC("perf_event")
int on_perf_event(void *ctx)
{
	bump(C_PERF_EVENT);
	return 0;
}
